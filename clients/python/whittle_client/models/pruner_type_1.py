from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.pruner_type_1_type import PrunerType1Type
from ..types import UNSET, Unset

T = TypeVar("T", bound="PrunerType1")


@_attrs_define
class PrunerType1:
    """Prune when the trial's best value so far is worse than the median of the complete
    trials' values at the same step.

        Attributes:
            type_ (PrunerType1Type):
            n_min_trials (int | Unset): Complete trials that must have reported the step (default 1).
            n_startup_trials (int | Unset): Complete trials needed before anything is pruned (default 5).
            n_warmup_steps (int | Unset): Steps before which a trial is never pruned (default 0).
    """

    type_: PrunerType1Type
    n_min_trials: int | Unset = UNSET
    n_startup_trials: int | Unset = UNSET
    n_warmup_steps: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        type_ = self.type_.value

        n_min_trials = self.n_min_trials

        n_startup_trials = self.n_startup_trials

        n_warmup_steps = self.n_warmup_steps

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "type": type_,
            }
        )
        if n_min_trials is not UNSET:
            field_dict["n_min_trials"] = n_min_trials
        if n_startup_trials is not UNSET:
            field_dict["n_startup_trials"] = n_startup_trials
        if n_warmup_steps is not UNSET:
            field_dict["n_warmup_steps"] = n_warmup_steps

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        type_ = PrunerType1Type(d.pop("type"))

        n_min_trials = d.pop("n_min_trials", UNSET)

        n_startup_trials = d.pop("n_startup_trials", UNSET)

        n_warmup_steps = d.pop("n_warmup_steps", UNSET)

        pruner_type_1 = cls(
            type_=type_,
            n_min_trials=n_min_trials,
            n_startup_trials=n_startup_trials,
            n_warmup_steps=n_warmup_steps,
        )

        pruner_type_1.additional_properties = d
        return pruner_type_1

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
