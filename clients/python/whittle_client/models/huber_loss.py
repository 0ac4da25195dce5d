from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="HuberLoss")


@_attrs_define
class HuberLoss:
    """The settings of [`Loss::Huber`] (`{"huber": {"delta": 1.0}}` on the wire).

    Attributes:
        delta (float): Width of the quadratic zone (> 0).
    """

    delta: float

    def to_dict(self) -> dict[str, Any]:
        delta = self.delta

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "delta": delta,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        delta = d.pop("delta")

        huber_loss = cls(
            delta=delta,
        )

        return huber_loss
