from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="TpeConfig")


@_attrs_define
class TpeConfig:
    """TPE settings (Optuna's names and defaults).

    Attributes:
        gamma (float | Unset): Fraction of trials in the "good" group: `min(ceil(gamma·n), max_good_trials)`. Default:
            0.1.
        max_good_trials (int | Unset): Cap on the "good" group size. Default: 25.
        n_ei_candidates (int | Unset): Candidates drawn from the "good" density per parameter. Default: 24.
        n_startup_trials (int | Unset): Random trials before TPE starts (counting complete trials). Default: 10.
        prior_weight (float | Unset): Weight of the prior kernel (uniform-ish over the range) in both densities.
            Default: 1.0.
        seed (int | Unset): Stream seed. Default: 0.
    """

    gamma: float | Unset = 0.1
    max_good_trials: int | Unset = 25
    n_ei_candidates: int | Unset = 24
    n_startup_trials: int | Unset = 10
    prior_weight: float | Unset = 1.0
    seed: int | Unset = 0

    def to_dict(self) -> dict[str, Any]:
        gamma = self.gamma

        max_good_trials = self.max_good_trials

        n_ei_candidates = self.n_ei_candidates

        n_startup_trials = self.n_startup_trials

        prior_weight = self.prior_weight

        seed = self.seed

        field_dict: dict[str, Any] = {}

        field_dict.update({})
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
        gamma = d.pop("gamma", UNSET)

        max_good_trials = d.pop("max_good_trials", UNSET)

        n_ei_candidates = d.pop("n_ei_candidates", UNSET)

        n_startup_trials = d.pop("n_startup_trials", UNSET)

        prior_weight = d.pop("prior_weight", UNSET)

        seed = d.pop("seed", UNSET)

        tpe_config = cls(
            gamma=gamma,
            max_good_trials=max_good_trials,
            n_ei_candidates=n_ei_candidates,
            n_startup_trials=n_startup_trials,
            prior_weight=prior_weight,
            seed=seed,
        )

        return tpe_config
