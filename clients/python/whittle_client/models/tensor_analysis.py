from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.tensor_stats import TensorStats


T = TypeVar("T", bound="TensorAnalysis")


@_attrs_define
class TensorAnalysis:
    """One tensor's statistics.

    Attributes:
        dtype (str):
        n_elements (int):
        name (str):
        shape (list[int]):
        note (None | str | Unset):
        stats (None | TensorStats | Unset):
    """

    dtype: str
    n_elements: int
    name: str
    shape: list[int]
    note: None | str | Unset = UNSET
    stats: None | TensorStats | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.tensor_stats import TensorStats

        dtype = self.dtype

        n_elements = self.n_elements

        name = self.name

        shape = self.shape

        note: None | str | Unset
        if isinstance(self.note, Unset):
            note = UNSET
        else:
            note = self.note

        stats: dict[str, Any] | None | Unset
        if isinstance(self.stats, Unset):
            stats = UNSET
        elif isinstance(self.stats, TensorStats):
            stats = self.stats.to_dict()
        else:
            stats = self.stats

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "dtype": dtype,
                "n_elements": n_elements,
                "name": name,
                "shape": shape,
            }
        )
        if note is not UNSET:
            field_dict["note"] = note
        if stats is not UNSET:
            field_dict["stats"] = stats

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.tensor_stats import TensorStats

        d = dict(src_dict)
        dtype = d.pop("dtype")

        n_elements = d.pop("n_elements")

        name = d.pop("name")

        shape = cast(list[int], d.pop("shape"))

        def _parse_note(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        note = _parse_note(d.pop("note", UNSET))

        def _parse_stats(data: object) -> None | TensorStats | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                stats_type_1 = TensorStats.from_dict(data)

                return stats_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | TensorStats | Unset, data)

        stats = _parse_stats(d.pop("stats", UNSET))

        tensor_analysis = cls(
            dtype=dtype,
            n_elements=n_elements,
            name=name,
            shape=shape,
            note=note,
            stats=stats,
        )

        tensor_analysis.additional_properties = d
        return tensor_analysis

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
