from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.lr_decay_type_1_kind import LrDecayType1Kind

T = TypeVar("T", bound="LrDecayType1")


@_attrs_define
class LrDecayType1:
    """Multiply by `gamma` every `step_size` epochs (PyTorch `StepLR`).

    Attributes:
        gamma (float): Decay factor in `(0, 1]`.
        kind (LrDecayType1Kind):
        step_size (int): Epochs between decays (≥ 1).
    """

    gamma: float
    kind: LrDecayType1Kind
    step_size: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        gamma = self.gamma

        kind = self.kind.value

        step_size = self.step_size

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "gamma": gamma,
                "kind": kind,
                "step_size": step_size,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        gamma = d.pop("gamma")

        kind = LrDecayType1Kind(d.pop("kind"))

        step_size = d.pop("step_size")

        lr_decay_type_1 = cls(
            gamma=gamma,
            kind=kind,
            step_size=step_size,
        )

        lr_decay_type_1.additional_properties = d
        return lr_decay_type_1

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
