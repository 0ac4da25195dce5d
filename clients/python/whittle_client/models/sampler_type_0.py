from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.sampler_type_0_type import SamplerType0Type
from ..types import UNSET, Unset

T = TypeVar("T", bound="SamplerType0")


@_attrs_define
class SamplerType0:
    """Trial `k` is grid point `k` (first parameter slowest); `grid_points` values per
    continuous float or log int (default 5).

        Attributes:
            type_ (SamplerType0Type):
            grid_points (int | Unset): Values per continuous float / log int.
    """

    type_: SamplerType0Type
    grid_points: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        type_ = self.type_.value

        grid_points = self.grid_points

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "type": type_,
            }
        )
        if grid_points is not UNSET:
            field_dict["grid_points"] = grid_points

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        type_ = SamplerType0Type(d.pop("type"))

        grid_points = d.pop("grid_points", UNSET)

        sampler_type_0 = cls(
            type_=type_,
            grid_points=grid_points,
        )

        sampler_type_0.additional_properties = d
        return sampler_type_0

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
