from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.optimizer_config_type_3_kind import OptimizerConfigType3Kind
from ..types import UNSET, Unset

T = TypeVar("T", bound="OptimizerConfigType3")


@_attrs_define
class OptimizerConfigType3:
    """RMSprop (PyTorch form, optional momentum).

    Attributes:
        kind (OptimizerConfigType3Kind):
        lr (float): Base learning rate.
        alpha (float | Unset): Decay of the squared-gradient average.
        eps (float | Unset): Denominator floor.
        momentum (float | Unset): Momentum factor in `[0, 1)`.
    """

    kind: OptimizerConfigType3Kind
    lr: float
    alpha: float | Unset = UNSET
    eps: float | Unset = UNSET
    momentum: float | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        kind = self.kind.value

        lr = self.lr

        alpha = self.alpha

        eps = self.eps

        momentum = self.momentum

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "kind": kind,
                "lr": lr,
            }
        )
        if alpha is not UNSET:
            field_dict["alpha"] = alpha
        if eps is not UNSET:
            field_dict["eps"] = eps
        if momentum is not UNSET:
            field_dict["momentum"] = momentum

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        kind = OptimizerConfigType3Kind(d.pop("kind"))

        lr = d.pop("lr")

        alpha = d.pop("alpha", UNSET)

        eps = d.pop("eps", UNSET)

        momentum = d.pop("momentum", UNSET)

        optimizer_config_type_3 = cls(
            kind=kind,
            lr=lr,
            alpha=alpha,
            eps=eps,
            momentum=momentum,
        )

        optimizer_config_type_3.additional_properties = d
        return optimizer_config_type_3

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
