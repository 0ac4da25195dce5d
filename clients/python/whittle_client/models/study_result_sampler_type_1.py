from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.study_result_sampler_type_1_type import StudyResultSamplerType1Type
from ..types import UNSET, Unset

T = TypeVar("T", bound="StudyResultSamplerType1")


@_attrs_define
class StudyResultSamplerType1:
    """Trial `k` is grid point `k` (first parameter slowest); `grid_points` values per
    continuous float or log int (default 5).

        Attributes:
            type_ (StudyResultSamplerType1Type):
            grid_points (int | Unset): Values per continuous float / log int.
    """

    type_: StudyResultSamplerType1Type
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
        type_ = StudyResultSamplerType1Type(d.pop("type"))

        grid_points = d.pop("grid_points", UNSET)

        study_result_sampler_type_1 = cls(
            type_=type_,
            grid_points=grid_points,
        )

        study_result_sampler_type_1.additional_properties = d
        return study_result_sampler_type_1

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
