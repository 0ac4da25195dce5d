from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="TenantUsageDto")


@_attrs_define
class TenantUsageDto:
    """What a tenant uses now.

    Attributes:
        active_jobs (int): Queued plus running jobs (a tune job's trials count as part of it).
        datasets (int):
        models (int):
        stored_bytes (int): Bytes of every stored model and dataset file, job outputs included.
    """

    active_jobs: int
    datasets: int
    models: int
    stored_bytes: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        active_jobs = self.active_jobs

        datasets = self.datasets

        models = self.models

        stored_bytes = self.stored_bytes

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "active_jobs": active_jobs,
                "datasets": datasets,
                "models": models,
                "stored_bytes": stored_bytes,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        active_jobs = d.pop("active_jobs")

        datasets = d.pop("datasets")

        models = d.pop("models")

        stored_bytes = d.pop("stored_bytes")

        tenant_usage_dto = cls(
            active_jobs=active_jobs,
            datasets=datasets,
            models=models,
            stored_bytes=stored_bytes,
        )

        tenant_usage_dto.additional_properties = d
        return tenant_usage_dto

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
