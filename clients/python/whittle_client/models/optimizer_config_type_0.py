from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.optimizer_config_type_0_kind import OptimizerConfigType0Kind
from ..types import UNSET, Unset

T = TypeVar("T", bound="OptimizerConfigType0")


@_attrs_define
class OptimizerConfigType0:
    """Stochastic gradient descent, optionally with (Nesterov) momentum.

    Attributes:
        kind (OptimizerConfigType0Kind):
        lr (float): Base learning rate.
        momentum (float | Unset): Momentum factor in `[0, 1)`.
        nesterov (bool | Unset): Use Nesterov momentum (requires `momentum > 0`).
    """

    kind: OptimizerConfigType0Kind
    lr: float
    momentum: float | Unset = UNSET
    nesterov: bool | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        kind = self.kind.value

        lr = self.lr

        momentum = self.momentum

        nesterov = self.nesterov

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "kind": kind,
                "lr": lr,
            }
        )
        if momentum is not UNSET:
            field_dict["momentum"] = momentum
        if nesterov is not UNSET:
            field_dict["nesterov"] = nesterov

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        kind = OptimizerConfigType0Kind(d.pop("kind"))

        lr = d.pop("lr")

        momentum = d.pop("momentum", UNSET)

        nesterov = d.pop("nesterov", UNSET)

        optimizer_config_type_0 = cls(
            kind=kind,
            lr=lr,
            momentum=momentum,
            nesterov=nesterov,
        )

        optimizer_config_type_0.additional_properties = d
        return optimizer_config_type_0

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
