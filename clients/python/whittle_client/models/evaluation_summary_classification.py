from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="EvaluationSummaryClassification")


@_attrs_define
class EvaluationSummaryClassification:
    """Headline figures of a [`ModelEvaluation`].

    Attributes:
        accuracy (float):
        f1_macro (float):
        latency_batch1_us (float):
        rows (int):
        throughput_rows_per_s (float):
        log_loss (float | None | Unset):
    """

    accuracy: float
    f1_macro: float
    latency_batch1_us: float
    rows: int
    throughput_rows_per_s: float
    log_loss: float | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        accuracy = self.accuracy

        f1_macro = self.f1_macro

        latency_batch1_us = self.latency_batch1_us

        rows = self.rows

        throughput_rows_per_s = self.throughput_rows_per_s

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
                "latency_batch1_us": latency_batch1_us,
                "rows": rows,
                "throughput_rows_per_s": throughput_rows_per_s,
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

        latency_batch1_us = d.pop("latency_batch1_us")

        rows = d.pop("rows")

        throughput_rows_per_s = d.pop("throughput_rows_per_s")

        def _parse_log_loss(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        log_loss = _parse_log_loss(d.pop("log_loss", UNSET))

        evaluation_summary_classification = cls(
            accuracy=accuracy,
            f1_macro=f1_macro,
            latency_batch1_us=latency_batch1_us,
            rows=rows,
            throughput_rows_per_s=throughput_rows_per_s,
            log_loss=log_loss,
        )

        evaluation_summary_classification.additional_properties = d
        return evaluation_summary_classification

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
