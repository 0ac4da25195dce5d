from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.tune_spec_sampler_type_3_type import TuneSpecSamplerType3Type
from ..types import UNSET, Unset

T = TypeVar("T", bound="TuneSpecSamplerType3")


@_attrs_define
class TuneSpecSamplerType3:
    """Tree-structured Parzen estimator (univariate, Optuna's defaults).

    Attributes:
        type_ (TuneSpecSamplerType3Type):
        gamma (float | Unset): Fraction of trials in the "good" group: `min(ceil(gamma·n), max_good_trials)`. Default:
            0.1.
        max_good_trials (int | Unset): Cap on the "good" group size. Default: 25.
        n_ei_candidates (int | Unset): Candidates drawn from the "good" density per parameter. Default: 24.
        n_startup_trials (int | Unset): Random trials before TPE starts (counting complete trials). Default: 10.
        prior_weight (float | Unset): Weight of the prior kernel (uniform-ish over the range) in both densities.
            Default: 1.0.
        seed (int | Unset): Stream seed. Default: 0.
    """

    type_: TuneSpecSamplerType3Type
    gamma: float | Unset = 0.1
    max_good_trials: int | Unset = 25
    n_ei_candidates: int | Unset = 24
    n_startup_trials: int | Unset = 10
    prior_weight: float | Unset = 1.0
    seed: int | Unset = 0
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        type_ = self.type_.value

        gamma = self.gamma

        max_good_trials = self.max_good_trials

        n_ei_candidates = self.n_ei_candidates

        n_startup_trials = self.n_startup_trials

        prior_weight = self.prior_weight

        seed = self.seed

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "type": type_,
            }
        )
        if gamma is not UNSET:
            field_dict["gamma"] = gamma
        if max_good_trials is not UNSET:
            field_dict["max_good_trials"] = max_good_trials
        if n_ei_candidates is not UNSET:
            field_dict["n_ei_candidates"] = n_ei_candidates
        if n_startup_trials is not UNSET:
            field_dict["n_startup_trials"] = n_startup_trials
        if prior_weight is not UNSET:
            field_dict["prior_weight"] = prior_weight
        if seed is not UNSET:
            field_dict["seed"] = seed

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        type_ = TuneSpecSamplerType3Type(d.pop("type"))

        gamma = d.pop("gamma", UNSET)

        max_good_trials = d.pop("max_good_trials", UNSET)

        n_ei_candidates = d.pop("n_ei_candidates", UNSET)

        n_startup_trials = d.pop("n_startup_trials", UNSET)

        prior_weight = d.pop("prior_weight", UNSET)

        seed = d.pop("seed", UNSET)

        tune_spec_sampler_type_3 = cls(
            type_=type_,
            gamma=gamma,
            max_good_trials=max_good_trials,
            n_ei_candidates=n_ei_candidates,
            n_startup_trials=n_startup_trials,
            prior_weight=prior_weight,
            seed=seed,
        )

        tune_spec_sampler_type_3.additional_properties = d
        return tune_spec_sampler_type_3

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
