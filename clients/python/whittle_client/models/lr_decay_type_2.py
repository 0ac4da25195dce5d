from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.lr_decay_type_2_kind import LrDecayType2Kind
from ..types import UNSET, Unset

T = TypeVar("T", bound="LrDecayType2")


@_attrs_define
class LrDecayType2:
    """Cosine annealing from the base rate to `min_lr` over the remaining steps.

    Attributes:
        kind (LrDecayType2Kind):
        min_lr (float | Unset): Final learning rate.
    """

    kind: LrDecayType2Kind
    min_lr: float | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        kind = self.kind.value

        min_lr = self.min_lr

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "kind": kind,
            }
        )
        if min_lr is not UNSET:
            field_dict["min_lr"] = min_lr

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        kind = LrDecayType2Kind(d.pop("kind"))

        min_lr = d.pop("min_lr", UNSET)

        lr_decay_type_2 = cls(
            kind=kind,
            min_lr=min_lr,
        )

        lr_decay_type_2.additional_properties = d
        return lr_decay_type_2

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
