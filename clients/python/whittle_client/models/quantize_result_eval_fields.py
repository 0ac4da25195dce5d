from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.method_spec import MethodSpec
from ..models.output_spec import OutputSpec
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.attempt import Attempt
    from ..models.gptq_report import GptqReport
    from ..models.left_in_float import LeftInFloat
    from ..models.onnx_export import OnnxExport
    from ..models.qat_report import QatReport
    from ..models.quality_change import QualityChange
    from ..models.scheme_report import SchemeReport
    from ..models.tensor_report import TensorReport
    from ..models.text_quality_change import TextQualityChange


T = TypeVar("T", bound="QuantizeResultEvalFields")


@_attrs_define
class QuantizeResultEvalFields:
    """The result of a `quantize` job.

    Attributes:
        eval_after (float):
        eval_before (float):
        eval_loss (float):
        eval_metric (str):
        evaluation (QualityChange | TextQualityChange): An MLP's or a transformer's quality before and after.
        format_ (str): The compressed-tensors format, or `dequantized`.
        left_in_float (list[LeftInFloat]): Selected tensors written in float because compressed-tensors cannot express
            them
            quantized (not a `<module>.weight`, not 2-D, or a partial last group).
        n_tensors_copied (int):
        n_tensors_quantized (int):
        quantized_weights (int):
        tensors (list[TensorReport]):
        bytes_after (int): The output on disk (for `output: onnx`, the quantized ONNX file).
        bytes_before (int):
        compression_ratio (float):
        elapsed_seconds (float):
        method (MethodSpec): How scales are chosen: `rtn` (min-max), `mse` (clipping search), `hqq`, `gptq` (needs
            calibration data and an MLP model).
        model_id (UUID):
        output (OutputSpec): What the output model holds.
        scheme (SchemeReport): A quantization scheme as reported.
        eval_prediction_agreement (float | None | Unset):
        bits_per_weight (float | None | Unset):
        quantization_config (Any | Unset):
        sqnr_db (float | None | Unset): Over every quantized weight; `null` when the error is zero.
        attempts (list[Attempt] | None | Unset): Every scheme tried under `tolerable_loss`.
        finetune (None | QatReport | Unset):
        gptq (GptqReport | None | Unset):
        onnx (None | OnnxExport | Unset):
    """

    eval_after: float
    eval_before: float
    eval_loss: float
    eval_metric: str
    evaluation: QualityChange | TextQualityChange
    format_: str
    left_in_float: list[LeftInFloat]
    n_tensors_copied: int
    n_tensors_quantized: int
    quantized_weights: int
    tensors: list[TensorReport]
    bytes_after: int
    bytes_before: int
    compression_ratio: float
    elapsed_seconds: float
    method: MethodSpec
    model_id: UUID
    output: OutputSpec
    scheme: SchemeReport
    eval_prediction_agreement: float | None | Unset = UNSET
    bits_per_weight: float | None | Unset = UNSET
    quantization_config: Any | Unset = UNSET
    sqnr_db: float | None | Unset = UNSET
    attempts: list[Attempt] | None | Unset = UNSET
    finetune: None | QatReport | Unset = UNSET
    gptq: GptqReport | None | Unset = UNSET
    onnx: None | OnnxExport | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.gptq_report import GptqReport
        from ..models.onnx_export import OnnxExport
        from ..models.qat_report import QatReport
        from ..models.quality_change import QualityChange

        eval_after = self.eval_after

        eval_before = self.eval_before

        eval_loss = self.eval_loss

        eval_metric = self.eval_metric

        evaluation: dict[str, Any]
        if isinstance(self.evaluation, QualityChange):
            evaluation = self.evaluation.to_dict()
        else:
            evaluation = self.evaluation.to_dict()

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

        bytes_after = self.bytes_after

        bytes_before = self.bytes_before

        compression_ratio = self.compression_ratio

        elapsed_seconds = self.elapsed_seconds

        method = self.method.value

        model_id = str(self.model_id)

        output = self.output.value

        scheme = self.scheme.to_dict()

        eval_prediction_agreement: float | None | Unset
        if isinstance(self.eval_prediction_agreement, Unset):
            eval_prediction_agreement = UNSET
        else:
            eval_prediction_agreement = self.eval_prediction_agreement

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

        attempts: list[dict[str, Any]] | None | Unset
        if isinstance(self.attempts, Unset):
            attempts = UNSET
        elif isinstance(self.attempts, list):
            attempts = []
            for attempts_type_0_item_data in self.attempts:
                attempts_type_0_item = attempts_type_0_item_data.to_dict()
                attempts.append(attempts_type_0_item)

        else:
            attempts = self.attempts

        finetune: dict[str, Any] | None | Unset
        if isinstance(self.finetune, Unset):
            finetune = UNSET
        elif isinstance(self.finetune, QatReport):
            finetune = self.finetune.to_dict()
        else:
            finetune = self.finetune

        gptq: dict[str, Any] | None | Unset
        if isinstance(self.gptq, Unset):
            gptq = UNSET
        elif isinstance(self.gptq, GptqReport):
            gptq = self.gptq.to_dict()
        else:
            gptq = self.gptq

        onnx: dict[str, Any] | None | Unset
        if isinstance(self.onnx, Unset):
            onnx = UNSET
        elif isinstance(self.onnx, OnnxExport):
            onnx = self.onnx.to_dict()
        else:
            onnx = self.onnx

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "eval_after": eval_after,
                "eval_before": eval_before,
                "eval_loss": eval_loss,
                "eval_metric": eval_metric,
                "evaluation": evaluation,
                "format": format_,
                "left_in_float": left_in_float,
                "n_tensors_copied": n_tensors_copied,
                "n_tensors_quantized": n_tensors_quantized,
                "quantized_weights": quantized_weights,
                "tensors": tensors,
                "bytes_after": bytes_after,
                "bytes_before": bytes_before,
                "compression_ratio": compression_ratio,
                "elapsed_seconds": elapsed_seconds,
                "method": method,
                "model_id": model_id,
                "output": output,
                "scheme": scheme,
            }
        )
        if eval_prediction_agreement is not UNSET:
            field_dict["eval_prediction_agreement"] = eval_prediction_agreement
        if bits_per_weight is not UNSET:
            field_dict["bits_per_weight"] = bits_per_weight
        if quantization_config is not UNSET:
            field_dict["quantization_config"] = quantization_config
        if sqnr_db is not UNSET:
            field_dict["sqnr_db"] = sqnr_db
        if attempts is not UNSET:
            field_dict["attempts"] = attempts
        if finetune is not UNSET:
            field_dict["finetune"] = finetune
        if gptq is not UNSET:
            field_dict["gptq"] = gptq
        if onnx is not UNSET:
            field_dict["onnx"] = onnx

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.attempt import Attempt
        from ..models.gptq_report import GptqReport
        from ..models.left_in_float import LeftInFloat
        from ..models.onnx_export import OnnxExport
        from ..models.qat_report import QatReport
        from ..models.quality_change import QualityChange
        from ..models.scheme_report import SchemeReport
        from ..models.tensor_report import TensorReport
        from ..models.text_quality_change import TextQualityChange

        d = dict(src_dict)
        eval_after = d.pop("eval_after")

        eval_before = d.pop("eval_before")

        eval_loss = d.pop("eval_loss")

        eval_metric = d.pop("eval_metric")

        def _parse_evaluation(data: object) -> QualityChange | TextQualityChange:
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_quality_type_0 = QualityChange.from_dict(data)

                return componentsschemas_quality_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            componentsschemas_quality_type_1 = TextQualityChange.from_dict(data)

            return componentsschemas_quality_type_1

        evaluation = _parse_evaluation(d.pop("evaluation"))

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

        bytes_after = d.pop("bytes_after")

        bytes_before = d.pop("bytes_before")

        compression_ratio = d.pop("compression_ratio")

        elapsed_seconds = d.pop("elapsed_seconds")

        method = MethodSpec(d.pop("method"))

        model_id = UUID(d.pop("model_id"))

        output = OutputSpec(d.pop("output"))

        scheme = SchemeReport.from_dict(d.pop("scheme"))

        def _parse_eval_prediction_agreement(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        eval_prediction_agreement = _parse_eval_prediction_agreement(
            d.pop("eval_prediction_agreement", UNSET)
        )

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

        def _parse_attempts(data: object) -> list[Attempt] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                attempts_type_0 = []
                _attempts_type_0 = data
                for attempts_type_0_item_data in _attempts_type_0:
                    attempts_type_0_item = Attempt.from_dict(attempts_type_0_item_data)

                    attempts_type_0.append(attempts_type_0_item)

                return attempts_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[Attempt] | None | Unset, data)

        attempts = _parse_attempts(d.pop("attempts", UNSET))

        def _parse_finetune(data: object) -> None | QatReport | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                finetune_type_1 = QatReport.from_dict(data)

                return finetune_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | QatReport | Unset, data)

        finetune = _parse_finetune(d.pop("finetune", UNSET))

        def _parse_gptq(data: object) -> GptqReport | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                gptq_type_1 = GptqReport.from_dict(data)

                return gptq_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(GptqReport | None | Unset, data)

        gptq = _parse_gptq(d.pop("gptq", UNSET))

        def _parse_onnx(data: object) -> None | OnnxExport | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                onnx_type_1 = OnnxExport.from_dict(data)

                return onnx_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | OnnxExport | Unset, data)

        onnx = _parse_onnx(d.pop("onnx", UNSET))

        quantize_result_eval_fields = cls(
            eval_after=eval_after,
            eval_before=eval_before,
            eval_loss=eval_loss,
            eval_metric=eval_metric,
            evaluation=evaluation,
            format_=format_,
            left_in_float=left_in_float,
            n_tensors_copied=n_tensors_copied,
            n_tensors_quantized=n_tensors_quantized,
            quantized_weights=quantized_weights,
            tensors=tensors,
            bytes_after=bytes_after,
            bytes_before=bytes_before,
            compression_ratio=compression_ratio,
            elapsed_seconds=elapsed_seconds,
            method=method,
            model_id=model_id,
            output=output,
            scheme=scheme,
            eval_prediction_agreement=eval_prediction_agreement,
            bits_per_weight=bits_per_weight,
            quantization_config=quantization_config,
            sqnr_db=sqnr_db,
            attempts=attempts,
            finetune=finetune,
            gptq=gptq,
            onnx=onnx,
        )

        quantize_result_eval_fields.additional_properties = d
        return quantize_result_eval_fields

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
