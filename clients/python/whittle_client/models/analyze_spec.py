from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="AnalyzeSpec")


@_attrs_define
class AnalyzeSpec:
    """Spec of an `analyze` job.

    Attributes:
        model_id (UUID): The model to analyze.
        exclude (list[str] | Unset): Skip tensors whose names match one of these globs.
        histogram_bins (int | Unset): Histogram bins per tensor (1..=4096).
        include (list[str] | Unset): Only tensors whose names match one of these globs (default: all).
    """

    model_id: UUID
    exclude: list[str] | Unset = UNSET
    histogram_bins: int | Unset = UNSET
    include: list[str] | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        model_id = str(self.model_id)

        exclude: list[str] | Unset = UNSET
        if not isinstance(self.exclude, Unset):
            exclude = self.exclude

        histogram_bins = self.histogram_bins

        include: list[str] | Unset = UNSET
        if not isinstance(self.include, Unset):
            include = self.include

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "model_id": model_id,
            }
        )
        if exclude is not UNSET:
            field_dict["exclude"] = exclude
        if histogram_bins is not UNSET:
            field_dict["histogram_bins"] = histogram_bins
        if include is not UNSET:
            field_dict["include"] = include

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        model_id = UUID(d.pop("model_id"))

        exclude = cast(list[str], d.pop("exclude", UNSET))

        histogram_bins = d.pop("histogram_bins", UNSET)

        include = cast(list[str], d.pop("include", UNSET))

        analyze_spec = cls(
            model_id=model_id,
            exclude=exclude,
            histogram_bins=histogram_bins,
            include=include,
        )

        return analyze_spec
