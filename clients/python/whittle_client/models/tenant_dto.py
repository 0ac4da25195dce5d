from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.tenant_quotas import TenantQuotas
    from ..models.tenant_usage_dto import TenantUsageDto


T = TypeVar("T", bound="TenantDto")


@_attrs_define
class TenantDto:
    """The calling tenant.

    Attributes:
        id (UUID):
        name (str):
        quotas (TenantQuotas): A tenant's quotas; null is no limit.
        usage (TenantUsageDto): What a tenant uses now.
    """

    id: UUID
    name: str
    quotas: TenantQuotas
    usage: TenantUsageDto
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        name = self.name

        quotas = self.quotas.to_dict()

        usage = self.usage.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "name": name,
                "quotas": quotas,
                "usage": usage,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.tenant_quotas import TenantQuotas
        from ..models.tenant_usage_dto import TenantUsageDto

        d = dict(src_dict)
        id = UUID(d.pop("id"))

        name = d.pop("name")

        quotas = TenantQuotas.from_dict(d.pop("quotas"))

        usage = TenantUsageDto.from_dict(d.pop("usage"))

        tenant_dto = cls(
            id=id,
            name=name,
            quotas=quotas,
            usage=usage,
        )

        tenant_dto.additional_properties = d
        return tenant_dto

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
