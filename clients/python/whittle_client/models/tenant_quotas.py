from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="TenantQuotas")


@_attrs_define
class TenantQuotas:
    """A tenant's quotas; null is no limit.

    Attributes:
        max_active_jobs (int | None | Unset): Queued plus running jobs at once (a submission beyond is a 429).
        max_stored_bytes (int | None | Unset): Bytes of models and datasets stored (an upload beyond is a 413).
    """

    max_active_jobs: int | None | Unset = UNSET
    max_stored_bytes: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        max_active_jobs: int | None | Unset
        if isinstance(self.max_active_jobs, Unset):
            max_active_jobs = UNSET
        else:
            max_active_jobs = self.max_active_jobs

        max_stored_bytes: int | None | Unset
        if isinstance(self.max_stored_bytes, Unset):
            max_stored_bytes = UNSET
        else:
            max_stored_bytes = self.max_stored_bytes

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if max_active_jobs is not UNSET:
            field_dict["max_active_jobs"] = max_active_jobs
        if max_stored_bytes is not UNSET:
            field_dict["max_stored_bytes"] = max_stored_bytes

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)

        def _parse_max_active_jobs(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        max_active_jobs = _parse_max_active_jobs(d.pop("max_active_jobs", UNSET))

        def _parse_max_stored_bytes(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        max_stored_bytes = _parse_max_stored_bytes(d.pop("max_stored_bytes", UNSET))

        tenant_quotas = cls(
            max_active_jobs=max_active_jobs,
            max_stored_bytes=max_stored_bytes,
        )

        tenant_quotas.additional_properties = d
        return tenant_quotas

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
