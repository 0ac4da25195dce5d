from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.distribution_type_1_type import DistributionType1Type
from ..types import UNSET, Unset

T = TypeVar("T", bound="DistributionType1")


@_attrs_define
class DistributionType1:
    """Integer in `[low, high]` on the grid `low + i·step`; `log` requires `low ≥ 1` and
    `step = 1`.

        Attributes:
            high (int): Upper bound (inclusive; values past the last step are never drawn).
            low (int): Lower bound (inclusive).
            type_ (DistributionType1Type):
            log (bool | Unset): Log-uniform.
            step (int | Unset): Step between values (default 1).
    """

    high: int
    low: int
    type_: DistributionType1Type
    log: bool | Unset = UNSET
    step: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        high = self.high

        low = self.low

        type_ = self.type_.value

        log = self.log

        step = self.step

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "high": high,
                "low": low,
                "type": type_,
            }
        )
        if log is not UNSET:
            field_dict["log"] = log
        if step is not UNSET:
            field_dict["step"] = step

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        high = d.pop("high")

        low = d.pop("low")

        type_ = DistributionType1Type(d.pop("type"))

        log = d.pop("log", UNSET)

        step = d.pop("step", UNSET)

        distribution_type_1 = cls(
            high=high,
            low=low,
            type_=type_,
            log=log,
            step=step,
        )

        distribution_type_1.additional_properties = d
        return distribution_type_1

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
