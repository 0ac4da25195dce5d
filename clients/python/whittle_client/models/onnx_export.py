from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.layer_report import LayerReport


T = TypeVar("T", bound="OnnxExport")


@_attrs_define
class OnnxExport:
    """What an `output: onnx` job wrote beside the dequantized weights.

    Attributes:
        float_model (str): The float model (the input model as it was).
        input_ (str): The graph input (`[batch, features]` float).
        layers (list[LayerReport]): How each layer's weights are stored in the quantized model.
        opset (int):
        outputs (list[str]): The graph outputs.
        quantized_model (str): The quantized model.
    """

    float_model: str
    input_: str
    layers: list[LayerReport]
    opset: int
    outputs: list[str]
    quantized_model: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        float_model = self.float_model

        input_ = self.input_

        layers = []
        for layers_item_data in self.layers:
            layers_item = layers_item_data.to_dict()
            layers.append(layers_item)

        opset = self.opset

        outputs = self.outputs

        quantized_model = self.quantized_model

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "float_model": float_model,
                "input": input_,
                "layers": layers,
                "opset": opset,
                "outputs": outputs,
                "quantized_model": quantized_model,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.layer_report import LayerReport

        d = dict(src_dict)
        float_model = d.pop("float_model")

        input_ = d.pop("input")

        layers = []
        _layers = d.pop("layers")
        for layers_item_data in _layers:
            layers_item = LayerReport.from_dict(layers_item_data)

            layers.append(layers_item)

        opset = d.pop("opset")

        outputs = cast(list[str], d.pop("outputs"))

        quantized_model = d.pop("quantized_model")

        onnx_export = cls(
            float_model=float_model,
            input_=input_,
            layers=layers,
            opset=opset,
            outputs=outputs,
            quantized_model=quantized_model,
        )

        onnx_export.additional_properties = d
        return onnx_export

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
