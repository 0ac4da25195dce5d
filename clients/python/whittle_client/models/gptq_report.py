from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.calibration_report import CalibrationReport
    from ..models.layer_error import LayerError


T = TypeVar("T", bound="GptqReport")


@_attrs_define
class GptqReport:
    """What GPTQ did, with each Linear's output error beside round-to-nearest's.

    Attributes:
        calibration (CalibrationReport): What calibration ran on, as reported in results.
        layers (list[LayerError]): Linears quantized with GPTQ (other selected tensors are quantized data-free).
        mean_gptq_output_error (float):
        mean_rtn_output_error (float): Mean over `layers` of the relative output error (see [`LayerError`]).
    """

    calibration: CalibrationReport
    layers: list[LayerError]
    mean_gptq_output_error: float
    mean_rtn_output_error: float
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        calibration = self.calibration.to_dict()

        layers = []
        for layers_item_data in self.layers:
            layers_item = layers_item_data.to_dict()
            layers.append(layers_item)

        mean_gptq_output_error = self.mean_gptq_output_error

        mean_rtn_output_error = self.mean_rtn_output_error

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "calibration": calibration,
                "layers": layers,
                "mean_gptq_output_error": mean_gptq_output_error,
                "mean_rtn_output_error": mean_rtn_output_error,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.calibration_report import CalibrationReport
        from ..models.layer_error import LayerError

        d = dict(src_dict)
        calibration = CalibrationReport.from_dict(d.pop("calibration"))

        layers = []
        _layers = d.pop("layers")
        for layers_item_data in _layers:
            layers_item = LayerError.from_dict(layers_item_data)

            layers.append(layers_item)

        mean_gptq_output_error = d.pop("mean_gptq_output_error")

        mean_rtn_output_error = d.pop("mean_rtn_output_error")

        gptq_report = cls(
            calibration=calibration,
            layers=layers,
            mean_gptq_output_error=mean_gptq_output_error,
            mean_rtn_output_error=mean_rtn_output_error,
        )

        gptq_report.additional_properties = d
        return gptq_report

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
