from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="TensorPruned")


@_attrs_define
class TensorPruned:
    """Zeros of one pruned tensor.

    Attributes:
        dtype (str):
        name (str):
        numel (int):
        shape (list[int]):
        sparsity (float):
        zeros (int):
        zeros_before (int | None | Unset):
    """

    dtype: str
    name: str
    numel: int
    shape: list[int]
    sparsity: float
    zeros: int
    zeros_before: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        dtype = self.dtype

        name = self.name

        numel = self.numel

        shape = self.shape

        sparsity = self.sparsity

        zeros = self.zeros

        zeros_before: int | None | Unset
        if isinstance(self.zeros_before, Unset):
            zeros_before = UNSET
        else:
            zeros_before = self.zeros_before

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "dtype": dtype,
                "name": name,
                "numel": numel,
                "shape": shape,
                "sparsity": sparsity,
                "zeros": zeros,
            }
        )
        if zeros_before is not UNSET:
            field_dict["zeros_before"] = zeros_before

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        dtype = d.pop("dtype")

        name = d.pop("name")

        numel = d.pop("numel")

        shape = cast(list[int], d.pop("shape"))

        sparsity = d.pop("sparsity")

        zeros = d.pop("zeros")

        def _parse_zeros_before(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        zeros_before = _parse_zeros_before(d.pop("zeros_before", UNSET))

        tensor_pruned = cls(
            dtype=dtype,
            name=name,
            numel=numel,
            shape=shape,
            sparsity=sparsity,
            zeros=zeros,
            zeros_before=zeros_before,
        )

        tensor_pruned.additional_properties = d
        return tensor_pruned

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
