from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.optimizer_config_type_1_kind import OptimizerConfigType1Kind
from ..types import UNSET, Unset

T = TypeVar("T", bound="OptimizerConfigType1")


@_attrs_define
class OptimizerConfigType1:
    """Adam; `TrainConfig::weight_decay` is applied as L2 on the gradient.

    Attributes:
        kind (OptimizerConfigType1Kind):
        lr (float): Base learning rate.
        beta1 (float | Unset): First-moment decay.
        beta2 (float | Unset): Second-moment decay.
        eps (float | Unset): Denominator floor.
    """

    kind: OptimizerConfigType1Kind
    lr: float
    beta1: float | Unset = UNSET
    beta2: float | Unset = UNSET
    eps: float | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        kind = self.kind.value

        lr = self.lr

        beta1 = self.beta1

        beta2 = self.beta2

        eps = self.eps

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "kind": kind,
                "lr": lr,
            }
        )
        if beta1 is not UNSET:
            field_dict["beta1"] = beta1
        if beta2 is not UNSET:
            field_dict["beta2"] = beta2
        if eps is not UNSET:
            field_dict["eps"] = eps

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        kind = OptimizerConfigType1Kind(d.pop("kind"))

        lr = d.pop("lr")

        beta1 = d.pop("beta1", UNSET)

        beta2 = d.pop("beta2", UNSET)

        eps = d.pop("eps", UNSET)

        optimizer_config_type_1 = cls(
            kind=kind,
            lr=lr,
            beta1=beta1,
            beta2=beta2,
            eps=eps,
        )

        optimizer_config_type_1.additional_properties = d
        return optimizer_config_type_1

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
