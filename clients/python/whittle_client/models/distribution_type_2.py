from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.distribution_type_2_type import DistributionType2Type

T = TypeVar("T", bound="DistributionType2")


@_attrs_define
class DistributionType2:
    """One of a list of JSON values (numbers, strings, bools, arrays, …).

    Attributes:
        choices (list[Any]): The distinct choices.
        type_ (DistributionType2Type):
    """

    choices: list[Any]
    type_: DistributionType2Type
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        choices = self.choices

        type_ = self.type_.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "choices": choices,
                "type": type_,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        choices = cast(list[Any], d.pop("choices"))

        type_ = DistributionType2Type(d.pop("type"))

        distribution_type_2 = cls(
            choices=choices,
            type_=type_,
        )

        distribution_type_2.additional_properties = d
        return distribution_type_2

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
