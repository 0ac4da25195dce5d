from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.job_metrics_dto_series import JobMetricsDtoSeries


T = TypeVar("T", bound="JobMetricsDto")


@_attrs_define
class JobMetricsDto:
    """Named series of a job (`train_loss`, `val_accuracy`, `best_value`, …) by step.

    Attributes:
        job_id (UUID):
        series (JobMetricsDtoSeries):
    """

    job_id: UUID
    series: JobMetricsDtoSeries
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        job_id = str(self.job_id)

        series = self.series.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "job_id": job_id,
                "series": series,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.job_metrics_dto_series import JobMetricsDtoSeries

        d = dict(src_dict)
        job_id = UUID(d.pop("job_id"))

        series = JobMetricsDtoSeries.from_dict(d.pop("series"))

        job_metrics_dto = cls(
            job_id=job_id,
            series=series,
        )

        job_metrics_dto.additional_properties = d
        return job_metrics_dto

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
