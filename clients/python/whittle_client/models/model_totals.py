from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="ModelTotals")


@_attrs_define
class ModelTotals:
    """Per-model totals combined from [`TensorStats`] (no percentiles or histogram: those do not
    combine exactly).

        Attributes:
            count (int): All elements.
            finite_count (int): Finite elements.
            inf_count (int): ±inf elements.
            n_tensors (int): Tensors added.
            nan_count (int): NaN elements.
            zero_count (int): Exact zeros.
            zero_fraction (float): `zero_count / count`.
            abs_max (float | None | Unset): Largest absolute finite value.
            max_ (float | None | Unset): Largest finite value over all tensors.
            mean (float | None | Unset): Mean of all finite values.
            min_ (float | None | Unset): Smallest finite value over all tensors.
            std (float | None | Unset): Population standard deviation of all finite values.
    """

    count: int
    finite_count: int
    inf_count: int
    n_tensors: int
    nan_count: int
    zero_count: int
    zero_fraction: float
    abs_max: float | None | Unset = UNSET
    max_: float | None | Unset = UNSET
    mean: float | None | Unset = UNSET
    min_: float | None | Unset = UNSET
    std: float | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        count = self.count

        finite_count = self.finite_count

        inf_count = self.inf_count

        n_tensors = self.n_tensors

        nan_count = self.nan_count

        zero_count = self.zero_count

        zero_fraction = self.zero_fraction

        abs_max: float | None | Unset
        if isinstance(self.abs_max, Unset):
            abs_max = UNSET
        else:
            abs_max = self.abs_max

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
                "n_tensors": n_tensors,
                "nan_count": nan_count,
                "zero_count": zero_count,
                "zero_fraction": zero_fraction,
            }
        )
        if abs_max is not UNSET:
            field_dict["abs_max"] = abs_max
        if max_ is not UNSET:
            field_dict["max"] = max_
        if mean is not UNSET:
            field_dict["mean"] = mean
        if min_ is not UNSET:
            field_dict["min"] = min_
        if std is not UNSET:
            field_dict["std"] = std

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        count = d.pop("count")

        finite_count = d.pop("finite_count")

        inf_count = d.pop("inf_count")

        n_tensors = d.pop("n_tensors")

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

        def _parse_std(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        std = _parse_std(d.pop("std", UNSET))

        model_totals = cls(
            count=count,
            finite_count=finite_count,
            inf_count=inf_count,
            n_tensors=n_tensors,
            nan_count=nan_count,
            zero_count=zero_count,
            zero_fraction=zero_fraction,
            abs_max=abs_max,
            max_=max_,
            mean=mean,
            min_=min_,
            std=std,
        )

        model_totals.additional_properties = d
        return model_totals

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
