from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="GradualSpec")


@_attrs_define
class GradualSpec:
    """Gradual pruning: `steps` rounds whose sparsity follows a polynomial decay from
    `initial_sparsity` to `sparsity`, with the fine-tuning epochs spread between rounds.

        Attributes:
            steps (int): Pruning rounds (2..=1000).
            initial_sparsity (float | Unset): Sparsity of the first round (default 0).
            power (float | Unset): Exponent of the decay (default 3, as TF-MOT).
    """

    steps: int
    initial_sparsity: float | Unset = UNSET
    power: float | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        steps = self.steps

        initial_sparsity = self.initial_sparsity

        power = self.power

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "steps": steps,
            }
        )
        if initial_sparsity is not UNSET:
            field_dict["initial_sparsity"] = initial_sparsity
        if power is not UNSET:
            field_dict["power"] = power

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        steps = d.pop("steps")

        initial_sparsity = d.pop("initial_sparsity", UNSET)

        power = d.pop("power", UNSET)

        gradual_spec = cls(
            steps=steps,
            initial_sparsity=initial_sparsity,
            power=power,
        )

        return gradual_spec
