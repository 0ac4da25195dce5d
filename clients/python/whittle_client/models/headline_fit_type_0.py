from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="HeadlineFitType0")


@_attrs_define
class HeadlineFitType0:
    """
    Attributes:
        train_accuracy (float):
        final_val_accuracy (float | None | Unset):
    """

    train_accuracy: float
    final_val_accuracy: float | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        train_accuracy = self.train_accuracy

        final_val_accuracy: float | None | Unset
        if isinstance(self.final_val_accuracy, Unset):
            final_val_accuracy = UNSET
        else:
            final_val_accuracy = self.final_val_accuracy

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "train_accuracy": train_accuracy,
            }
        )
        if final_val_accuracy is not UNSET:
            field_dict["final_val_accuracy"] = final_val_accuracy

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        train_accuracy = d.pop("train_accuracy")

        def _parse_final_val_accuracy(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        final_val_accuracy = _parse_final_val_accuracy(
            d.pop("final_val_accuracy", UNSET)
        )

        headline_fit_type_0 = cls(
            train_accuracy=train_accuracy,
            final_val_accuracy=final_val_accuracy,
        )

        headline_fit_type_0.additional_properties = d
        return headline_fit_type_0

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
