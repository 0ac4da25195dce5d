from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.left_in_float import LeftInFloat
    from ..models.tensor_report import TensorReport


T = TypeVar("T", bound="PassSummary")


@_attrs_define
class PassSummary:
    """The report of one pass.

    Attributes:
        format_ (str): The compressed-tensors format, or `dequantized`.
        left_in_float (list[LeftInFloat]): Selected tensors written in float because compressed-tensors cannot express
            them
            quantized (not a `<module>.weight`, not 2-D, or a partial last group).
        n_tensors_copied (int):
        n_tensors_quantized (int):
        quantized_weights (int):
        tensors (list[TensorReport]):
        bits_per_weight (float | None | Unset):
        quantization_config (Any | Unset):
        sqnr_db (float | None | Unset): Over every quantized weight; `null` when the error is zero.
    """

    format_: str
    left_in_float: list[LeftInFloat]
    n_tensors_copied: int
    n_tensors_quantized: int
    quantized_weights: int
    tensors: list[TensorReport]
    bits_per_weight: float | None | Unset = UNSET
    quantization_config: Any | Unset = UNSET
    sqnr_db: float | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        format_ = self.format_

        left_in_float = []
        for left_in_float_item_data in self.left_in_float:
            left_in_float_item = left_in_float_item_data.to_dict()
            left_in_float.append(left_in_float_item)

        n_tensors_copied = self.n_tensors_copied

        n_tensors_quantized = self.n_tensors_quantized

        quantized_weights = self.quantized_weights

        tensors = []
        for tensors_item_data in self.tensors:
            tensors_item = tensors_item_data.to_dict()
            tensors.append(tensors_item)

        bits_per_weight: float | None | Unset
        if isinstance(self.bits_per_weight, Unset):
            bits_per_weight = UNSET
        else:
            bits_per_weight = self.bits_per_weight

        quantization_config = self.quantization_config

        sqnr_db: float | None | Unset
        if isinstance(self.sqnr_db, Unset):
            sqnr_db = UNSET
        else:
            sqnr_db = self.sqnr_db

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "format": format_,
                "left_in_float": left_in_float,
                "n_tensors_copied": n_tensors_copied,
                "n_tensors_quantized": n_tensors_quantized,
                "quantized_weights": quantized_weights,
                "tensors": tensors,
            }
        )
        if bits_per_weight is not UNSET:
            field_dict["bits_per_weight"] = bits_per_weight
        if quantization_config is not UNSET:
            field_dict["quantization_config"] = quantization_config
        if sqnr_db is not UNSET:
            field_dict["sqnr_db"] = sqnr_db

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.left_in_float import LeftInFloat
        from ..models.tensor_report import TensorReport

        d = dict(src_dict)
        format_ = d.pop("format")

        left_in_float = []
        _left_in_float = d.pop("left_in_float")
        for left_in_float_item_data in _left_in_float:
            left_in_float_item = LeftInFloat.from_dict(left_in_float_item_data)

            left_in_float.append(left_in_float_item)

        n_tensors_copied = d.pop("n_tensors_copied")

        n_tensors_quantized = d.pop("n_tensors_quantized")

        quantized_weights = d.pop("quantized_weights")

        tensors = []
        _tensors = d.pop("tensors")
        for tensors_item_data in _tensors:
            tensors_item = TensorReport.from_dict(tensors_item_data)

            tensors.append(tensors_item)

        def _parse_bits_per_weight(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        bits_per_weight = _parse_bits_per_weight(d.pop("bits_per_weight", UNSET))

        quantization_config = d.pop("quantization_config", UNSET)

        def _parse_sqnr_db(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        sqnr_db = _parse_sqnr_db(d.pop("sqnr_db", UNSET))

        pass_summary = cls(
            format_=format_,
            left_in_float=left_in_float,
            n_tensors_copied=n_tensors_copied,
            n_tensors_quantized=n_tensors_quantized,
            quantized_weights=quantized_weights,
            tensors=tensors,
            bits_per_weight=bits_per_weight,
            quantization_config=quantization_config,
            sqnr_db=sqnr_db,
        )

        pass_summary.additional_properties = d
        return pass_summary

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
