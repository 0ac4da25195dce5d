from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="HeadlineFitType1")


@_attrs_define
class HeadlineFitType1:
    """
    Attributes:
        train_r2 (float):
        final_val_r2 (float | None | Unset):
    """

    train_r2: float
    final_val_r2: float | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        train_r2 = self.train_r2

        final_val_r2: float | None | Unset
        if isinstance(self.final_val_r2, Unset):
            final_val_r2 = UNSET
        else:
            final_val_r2 = self.final_val_r2

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "train_r2": train_r2,
            }
        )
        if final_val_r2 is not UNSET:
            field_dict["final_val_r2"] = final_val_r2

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        train_r2 = d.pop("train_r2")

        def _parse_final_val_r2(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        final_val_r2 = _parse_final_val_r2(d.pop("final_val_r2", UNSET))

        headline_fit_type_1 = cls(
            train_r2=train_r2,
            final_val_r2=final_val_r2,
        )

        headline_fit_type_1.additional_properties = d
        return headline_fit_type_1

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
