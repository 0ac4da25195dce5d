from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.tune_spec_pruner_type_3_type import TuneSpecPrunerType3Type
from ..types import UNSET, Unset

T = TypeVar("T", bound="TuneSpecPrunerType3")


@_attrs_define
class TuneSpecPrunerType3:
    """Successive halving: rung `r` sits at step `min_resource · η^(min_early_stopping_rate + r)`;
    a trial reaching a rung continues only if it is in the top `1/η` of the values recorded
    at that rung (the best one while fewer than `η` trials are there).

        Attributes:
            type_ (TuneSpecPrunerType3Type):
            min_early_stopping_rate (int | Unset): Skips the first rungs (default 0).
            min_resource (int | Unset): Resource (steps) of the first rung (default 1).
            reduction_factor (int | Unset): η, the promotion ratio (default 3).
    """

    type_: TuneSpecPrunerType3Type
    min_early_stopping_rate: int | Unset = UNSET
    min_resource: int | Unset = UNSET
    reduction_factor: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        type_ = self.type_.value

        min_early_stopping_rate = self.min_early_stopping_rate

        min_resource = self.min_resource

        reduction_factor = self.reduction_factor

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "type": type_,
            }
        )
        if min_early_stopping_rate is not UNSET:
            field_dict["min_early_stopping_rate"] = min_early_stopping_rate
        if min_resource is not UNSET:
            field_dict["min_resource"] = min_resource
        if reduction_factor is not UNSET:
            field_dict["reduction_factor"] = reduction_factor

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        type_ = TuneSpecPrunerType3Type(d.pop("type"))

        min_early_stopping_rate = d.pop("min_early_stopping_rate", UNSET)

        min_resource = d.pop("min_resource", UNSET)

        reduction_factor = d.pop("reduction_factor", UNSET)

        tune_spec_pruner_type_3 = cls(
            type_=type_,
            min_early_stopping_rate=min_early_stopping_rate,
            min_resource=min_resource,
            reduction_factor=reduction_factor,
        )

        tune_spec_pruner_type_3.additional_properties = d
        return tune_spec_pruner_type_3

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
