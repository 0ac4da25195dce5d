from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.tune_spec_sampler_type_2_type import TuneSpecSamplerType2Type
from ..types import UNSET, Unset

T = TypeVar("T", bound="TuneSpecSamplerType2")


@_attrs_define
class TuneSpecSamplerType2:
    """Independent uniform (or log-uniform) draws.

    Attributes:
        type_ (TuneSpecSamplerType2Type):
        seed (int | Unset): Stream seed.
    """

    type_: TuneSpecSamplerType2Type
    seed: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        type_ = self.type_.value

        seed = self.seed

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "type": type_,
            }
        )
        if seed is not UNSET:
            field_dict["seed"] = seed

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        type_ = TuneSpecSamplerType2Type(d.pop("type"))

        seed = d.pop("seed", UNSET)

        tune_spec_sampler_type_2 = cls(
            type_=type_,
            seed=seed,
        )

        tune_spec_sampler_type_2.additional_properties = d
        return tune_spec_sampler_type_2

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
