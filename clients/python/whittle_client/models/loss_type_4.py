from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.huber_loss import HuberLoss


T = TypeVar("T", bound="LossType4")


@_attrs_define
class LossType4:
    """Huber loss: quadratic within `delta` of the target, linear outside.

    Attributes:
        huber (HuberLoss): The settings of [`Loss::Huber`] (`{"huber": {"delta": 1.0}}` on the wire).
    """

    huber: HuberLoss
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        huber = self.huber.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "huber": huber,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.huber_loss import HuberLoss

        d = dict(src_dict)
        huber = HuberLoss.from_dict(d.pop("huber"))

        loss_type_4 = cls(
            huber=huber,
        )

        loss_type_4.additional_properties = d
        return loss_type_4

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
