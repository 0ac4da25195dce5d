from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.distribution_type_0_type import DistributionType0Type
from ..types import UNSET, Unset

T = TypeVar("T", bound="DistributionType0")


@_attrs_define
class DistributionType0:
    """Real number in `[low, high]`; `log` samples uniformly in log space; `step` restricts to
    `low + i·step` (not with `log`).

        Attributes:
            high (float): Upper bound (inclusive).
            low (float): Lower bound (inclusive).
            type_ (DistributionType0Type):
            log (bool | Unset): Log-uniform (requires `low > 0`).
            step (float | None | Unset): Optional discretization step.
    """

    high: float
    low: float
    type_: DistributionType0Type
    log: bool | Unset = UNSET
    step: float | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        high = self.high

        low = self.low

        type_ = self.type_.value

        log = self.log

        step: float | None | Unset
        if isinstance(self.step, Unset):
            step = UNSET
        else:
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

        type_ = DistributionType0Type(d.pop("type"))

        log = d.pop("log", UNSET)

        def _parse_step(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        step = _parse_step(d.pop("step", UNSET))

        distribution_type_0 = cls(
            high=high,
            low=low,
            type_=type_,
            log=log,
            step=step,
        )

        distribution_type_0.additional_properties = d
        return distribution_type_0

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
