from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="LayerError")


@_attrs_define
class LayerError:
    """`‖(W − Ŵ)X‖² / ‖WX‖²` of one Linear on its calibration inputs `X` (the outputs of the
    already-quantized blocks before it), for GPTQ's `Ŵ` and round-to-nearest's.

        Attributes:
            gptq_output_error (float):
            name (str):
            rtn_output_error (float):
    """

    gptq_output_error: float
    name: str
    rtn_output_error: float
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        gptq_output_error = self.gptq_output_error

        name = self.name

        rtn_output_error = self.rtn_output_error

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "gptq_output_error": gptq_output_error,
                "name": name,
                "rtn_output_error": rtn_output_error,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        gptq_output_error = d.pop("gptq_output_error")

        name = d.pop("name")

        rtn_output_error = d.pop("rtn_output_error")

        layer_error = cls(
            gptq_output_error=gptq_output_error,
            name=name,
            rtn_output_error=rtn_output_error,
        )

        layer_error.additional_properties = d
        return layer_error

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
