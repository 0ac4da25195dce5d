from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="SummaryMetricsType0")


@_attrs_define
class SummaryMetricsType0:
    """
    Attributes:
        accuracy (float):
        f1_macro (float):
        log_loss (float | None | Unset):
    """

    accuracy: float
    f1_macro: float
    log_loss: float | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        accuracy = self.accuracy

        f1_macro = self.f1_macro

        log_loss: float | None | Unset
        if isinstance(self.log_loss, Unset):
            log_loss = UNSET
        else:
            log_loss = self.log_loss

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "accuracy": accuracy,
                "f1_macro": f1_macro,
            }
        )
        if log_loss is not UNSET:
            field_dict["log_loss"] = log_loss

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        accuracy = d.pop("accuracy")

        f1_macro = d.pop("f1_macro")

        def _parse_log_loss(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        log_loss = _parse_log_loss(d.pop("log_loss", UNSET))

        summary_metrics_type_0 = cls(
            accuracy=accuracy,
            f1_macro=f1_macro,
            log_loss=log_loss,
        )

        summary_metrics_type_0.additional_properties = d
        return summary_metrics_type_0

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
