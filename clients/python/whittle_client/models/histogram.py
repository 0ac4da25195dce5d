from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="Histogram")


@_attrs_define
class Histogram:
    """Equal-width histogram of the finite values.

    Attributes:
        counts (list[int]): Count per bin.
        hi (float): Right edge of the last bin (inclusive).
        lo (float): Left edge of the first bin.
    """

    counts: list[int]
    hi: float
    lo: float
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        counts = self.counts

        hi = self.hi

        lo = self.lo

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "counts": counts,
                "hi": hi,
                "lo": lo,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        counts = cast(list[int], d.pop("counts"))

        hi = d.pop("hi")

        lo = d.pop("lo")

        histogram = cls(
            counts=counts,
            hi=hi,
            lo=lo,
        )

        histogram.additional_properties = d
        return histogram

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
