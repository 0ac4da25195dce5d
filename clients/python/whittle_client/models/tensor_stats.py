from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.histogram import Histogram


T = TypeVar("T", bound="TensorStats")


@_attrs_define
class TensorStats:
    """Statistics of one tensor (see the module docs for exact definitions).

    Attributes:
        count (int): All elements, NaN and infinities included.
        finite_count (int): Elements that are neither NaN nor infinite.
        inf_count (int): ±inf elements.
        nan_count (int): NaN elements.
        zero_count (int): Elements equal to 0.0 or -0.0.
        zero_fraction (float): `zero_count / count` (0 for an empty tensor).
        abs_max (float | None | Unset): Largest absolute finite value.
        histogram (Histogram | None | Unset):
        max_ (float | None | Unset): Largest finite value.
        mean (float | None | Unset): Mean of the finite values.
        min_ (float | None | Unset): Smallest finite value.
        p0_1 (float | None | Unset): 0.1th percentile (numpy linear interpolation).
        p99_9 (float | None | Unset): 99.9th percentile (numpy linear interpolation).
        std (float | None | Unset): Population standard deviation of the finite values.
    """

    count: int
    finite_count: int
    inf_count: int
    nan_count: int
    zero_count: int
    zero_fraction: float
    abs_max: float | None | Unset = UNSET
    histogram: Histogram | None | Unset = UNSET
    max_: float | None | Unset = UNSET
    mean: float | None | Unset = UNSET
    min_: float | None | Unset = UNSET
    p0_1: float | None | Unset = UNSET
    p99_9: float | None | Unset = UNSET
    std: float | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.histogram import Histogram

        count = self.count

        finite_count = self.finite_count

        inf_count = self.inf_count

        nan_count = self.nan_count

        zero_count = self.zero_count

        zero_fraction = self.zero_fraction

        abs_max: float | None | Unset
        if isinstance(self.abs_max, Unset):
            abs_max = UNSET
        else:
            abs_max = self.abs_max

        histogram: dict[str, Any] | None | Unset
        if isinstance(self.histogram, Unset):
            histogram = UNSET
        elif isinstance(self.histogram, Histogram):
            histogram = self.histogram.to_dict()
        else:
            histogram = self.histogram

        max_: float | None | Unset
        if isinstance(self.max_, Unset):
            max_ = UNSET
        else:
            max_ = self.max_

        mean: float | None | Unset
        if isinstance(self.mean, Unset):
            mean = UNSET
        else:
            mean = self.mean

        min_: float | None | Unset
        if isinstance(self.min_, Unset):
            min_ = UNSET
        else:
            min_ = self.min_

        p0_1: float | None | Unset
        if isinstance(self.p0_1, Unset):
            p0_1 = UNSET
        else:
            p0_1 = self.p0_1

        p99_9: float | None | Unset
        if isinstance(self.p99_9, Unset):
            p99_9 = UNSET
        else:
            p99_9 = self.p99_9

        std: float | None | Unset
        if isinstance(self.std, Unset):
            std = UNSET
        else:
            std = self.std

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "count": count,
                "finite_count": finite_count,
                "inf_count": inf_count,
                "nan_count": nan_count,
                "zero_count": zero_count,
                "zero_fraction": zero_fraction,
            }
        )
        if abs_max is not UNSET:
            field_dict["abs_max"] = abs_max
        if histogram is not UNSET:
            field_dict["histogram"] = histogram
        if max_ is not UNSET:
            field_dict["max"] = max_
        if mean is not UNSET:
            field_dict["mean"] = mean
        if min_ is not UNSET:
            field_dict["min"] = min_
        if p0_1 is not UNSET:
            field_dict["p0_1"] = p0_1
        if p99_9 is not UNSET:
            field_dict["p99_9"] = p99_9
        if std is not UNSET:
            field_dict["std"] = std

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.histogram import Histogram

        d = dict(src_dict)
        count = d.pop("count")

        finite_count = d.pop("finite_count")

        inf_count = d.pop("inf_count")

        nan_count = d.pop("nan_count")

        zero_count = d.pop("zero_count")

        zero_fraction = d.pop("zero_fraction")

        def _parse_abs_max(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        abs_max = _parse_abs_max(d.pop("abs_max", UNSET))

        def _parse_histogram(data: object) -> Histogram | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                histogram_type_1 = Histogram.from_dict(data)

                return histogram_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(Histogram | None | Unset, data)

        histogram = _parse_histogram(d.pop("histogram", UNSET))

        def _parse_max_(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        max_ = _parse_max_(d.pop("max", UNSET))

        def _parse_mean(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        mean = _parse_mean(d.pop("mean", UNSET))

        def _parse_min_(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        min_ = _parse_min_(d.pop("min", UNSET))

        def _parse_p0_1(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        p0_1 = _parse_p0_1(d.pop("p0_1", UNSET))

        def _parse_p99_9(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        p99_9 = _parse_p99_9(d.pop("p99_9", UNSET))

        def _parse_std(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        std = _parse_std(d.pop("std", UNSET))

        tensor_stats = cls(
            count=count,
            finite_count=finite_count,
            inf_count=inf_count,
            nan_count=nan_count,
            zero_count=zero_count,
            zero_fraction=zero_fraction,
            abs_max=abs_max,
            histogram=histogram,
            max_=max_,
            mean=mean,
            min_=min_,
            p0_1=p0_1,
            p99_9=p99_9,
            std=std,
        )

        tensor_stats.additional_properties = d
        return tensor_stats

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
