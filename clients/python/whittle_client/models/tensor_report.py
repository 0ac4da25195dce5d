from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="TensorReport")


@_attrs_define
class TensorReport:
    """The error of one quantized tensor.

    Attributes:
        bits_per_weight (float):
        dtype (str):
        max_abs_error (float):
        mse (float):
        name (str):
        shape (list[int]):
        sqnr_db (float | None | Unset):
    """

    bits_per_weight: float
    dtype: str
    max_abs_error: float
    mse: float
    name: str
    shape: list[int]
    sqnr_db: float | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        bits_per_weight = self.bits_per_weight

        dtype = self.dtype

        max_abs_error = self.max_abs_error

        mse = self.mse

        name = self.name

        shape = self.shape

        sqnr_db: float | None | Unset
        if isinstance(self.sqnr_db, Unset):
            sqnr_db = UNSET
        else:
            sqnr_db = self.sqnr_db

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "bits_per_weight": bits_per_weight,
                "dtype": dtype,
                "max_abs_error": max_abs_error,
                "mse": mse,
                "name": name,
                "shape": shape,
            }
        )
        if sqnr_db is not UNSET:
            field_dict["sqnr_db"] = sqnr_db

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        bits_per_weight = d.pop("bits_per_weight")

        dtype = d.pop("dtype")

        max_abs_error = d.pop("max_abs_error")

        mse = d.pop("mse")

        name = d.pop("name")

        shape = cast(list[int], d.pop("shape"))

        def _parse_sqnr_db(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        sqnr_db = _parse_sqnr_db(d.pop("sqnr_db", UNSET))

        tensor_report = cls(
            bits_per_weight=bits_per_weight,
            dtype=dtype,
            max_abs_error=max_abs_error,
            mse=mse,
            name=name,
            shape=shape,
            sqnr_db=sqnr_db,
        )

        tensor_report.additional_properties = d
        return tensor_report

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
