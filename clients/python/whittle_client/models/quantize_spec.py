from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..models.compressed_format_spec import CompressedFormatSpec
from ..models.method_spec import MethodSpec
from ..models.onnx_ops_spec import OnnxOpsSpec
from ..models.output_spec import OutputSpec
from ..models.scale_dtype_spec import ScaleDtypeSpec
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.finetune_spec import FinetuneSpec
    from ..models.scheme_spec import SchemeSpec


T = TypeVar("T", bound="QuantizeSpec")


@_attrs_define
class QuantizeSpec:
    """Spec of a `quantize` job.

    Attributes:
        model_id (UUID): The model to quantize (any safetensors file).
        calibration_dataset_id (None | Unset | UUID): Inputs for GPTQ's layer Hessians (required for `gptq`): rows with
            the MLP's features,
            or a text dataset for a transformer (run block by block through the model).
        compressed_format (CompressedFormatSpec | None | Unset):
        eval_dataset_id (None | Unset | UUID): MLPs: a labelled dataset to measure accuracy (or R²) before and after.
            Transformers:
            a text dataset (perplexity for decoders; accuracy for an encoder with a head and
            labels, else the cosine of its sentence embeddings to the float model's).
        exclude (list[str] | Unset): Leave tensors whose names match one of these globs in float.
        finetune (FinetuneSpec | None | Unset):
        include (list[str] | Unset): Only tensors whose names match one of these globs (default: every float tensor with
            at least 2 dimensions; a 1-D tensor is quantized as one row only when an include glob
            names it).
        max_examples (int | None | Unset): Transformers: use the first this many examples of the eval dataset (default:
            all)
            and of the calibration dataset (default 256).
        max_length (int | None | Unset): Transformers: tokens per sequence of the eval and calibration text (encoders
            truncate to it; decoders score perplexity windows of it and calibrate on chunks of
            it). Default: 128 for encoders, 512 for decoders, at most the model's positions.
        max_shard_bytes (int | None | Unset): Largest shard (tensor bytes) of a folder output, at least 1024 (default 5
            GB, as
            transformers' `save_pretrained`). Applies when the input model is a folder.
        method (MethodSpec | Unset): How scales are chosen: `rtn` (min-max), `mse` (clipping search), `hqq`, `gptq`
            (needs
            calibration data and an MLP model).
        onnx_ops (None | OnnxOpsSpec | Unset):
        output (OutputSpec | Unset): What the output model holds.
        output_name (None | str | Unset): Name of the output model.
        scale_dtype (None | ScaleDtypeSpec | Unset):
        scheme (SchemeSpec | Unset): Bits, symmetry and granularity of the codes.
        tolerable_loss (float | None | Unset): Largest loss of the eval metric accepted (an accuracy or R² drop;
            transformers: the
            relative perplexity increase, accuracy drop or `1 − cosine`); when exceeded, finer schemes are tried
            (smaller groups, then more bits). Needs `eval_dataset_id`.
    """

    model_id: UUID
    calibration_dataset_id: None | Unset | UUID = UNSET
    compressed_format: CompressedFormatSpec | None | Unset = UNSET
    eval_dataset_id: None | Unset | UUID = UNSET
    exclude: list[str] | Unset = UNSET
    finetune: FinetuneSpec | None | Unset = UNSET
    include: list[str] | Unset = UNSET
    max_examples: int | None | Unset = UNSET
    max_length: int | None | Unset = UNSET
    max_shard_bytes: int | None | Unset = UNSET
    method: MethodSpec | Unset = UNSET
    onnx_ops: None | OnnxOpsSpec | Unset = UNSET
    output: OutputSpec | Unset = UNSET
    output_name: None | str | Unset = UNSET
    scale_dtype: None | ScaleDtypeSpec | Unset = UNSET
    scheme: SchemeSpec | Unset = UNSET
    tolerable_loss: float | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.finetune_spec import FinetuneSpec

        model_id = str(self.model_id)

        calibration_dataset_id: None | str | Unset
        if isinstance(self.calibration_dataset_id, Unset):
            calibration_dataset_id = UNSET
        elif isinstance(self.calibration_dataset_id, UUID):
            calibration_dataset_id = str(self.calibration_dataset_id)
        else:
            calibration_dataset_id = self.calibration_dataset_id

        compressed_format: None | str | Unset
        if isinstance(self.compressed_format, Unset):
            compressed_format = UNSET
        elif isinstance(self.compressed_format, CompressedFormatSpec):
            compressed_format = self.compressed_format.value
        else:
            compressed_format = self.compressed_format

        eval_dataset_id: None | str | Unset
        if isinstance(self.eval_dataset_id, Unset):
            eval_dataset_id = UNSET
        elif isinstance(self.eval_dataset_id, UUID):
            eval_dataset_id = str(self.eval_dataset_id)
        else:
            eval_dataset_id = self.eval_dataset_id

        exclude: list[str] | Unset = UNSET
        if not isinstance(self.exclude, Unset):
            exclude = self.exclude

        finetune: dict[str, Any] | None | Unset
        if isinstance(self.finetune, Unset):
            finetune = UNSET
        elif isinstance(self.finetune, FinetuneSpec):
            finetune = self.finetune.to_dict()
        else:
            finetune = self.finetune

        include: list[str] | Unset = UNSET
        if not isinstance(self.include, Unset):
            include = self.include

        max_examples: int | None | Unset
        if isinstance(self.max_examples, Unset):
            max_examples = UNSET
        else:
            max_examples = self.max_examples

        max_length: int | None | Unset
        if isinstance(self.max_length, Unset):
            max_length = UNSET
        else:
            max_length = self.max_length

        max_shard_bytes: int | None | Unset
        if isinstance(self.max_shard_bytes, Unset):
            max_shard_bytes = UNSET
        else:
            max_shard_bytes = self.max_shard_bytes

        method: str | Unset = UNSET
        if not isinstance(self.method, Unset):
            method = self.method.value

        onnx_ops: None | str | Unset
        if isinstance(self.onnx_ops, Unset):
            onnx_ops = UNSET
        elif isinstance(self.onnx_ops, OnnxOpsSpec):
            onnx_ops = self.onnx_ops.value
        else:
            onnx_ops = self.onnx_ops

        output: str | Unset = UNSET
        if not isinstance(self.output, Unset):
            output = self.output.value

        output_name: None | str | Unset
        if isinstance(self.output_name, Unset):
            output_name = UNSET
        else:
            output_name = self.output_name

        scale_dtype: None | str | Unset
        if isinstance(self.scale_dtype, Unset):
            scale_dtype = UNSET
        elif isinstance(self.scale_dtype, ScaleDtypeSpec):
            scale_dtype = self.scale_dtype.value
        else:
            scale_dtype = self.scale_dtype

        scheme: dict[str, Any] | Unset = UNSET
        if not isinstance(self.scheme, Unset):
            scheme = self.scheme.to_dict()

        tolerable_loss: float | None | Unset
        if isinstance(self.tolerable_loss, Unset):
            tolerable_loss = UNSET
        else:
            tolerable_loss = self.tolerable_loss

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "model_id": model_id,
            }
        )
        if calibration_dataset_id is not UNSET:
            field_dict["calibration_dataset_id"] = calibration_dataset_id
        if compressed_format is not UNSET:
            field_dict["compressed_format"] = compressed_format
        if eval_dataset_id is not UNSET:
            field_dict["eval_dataset_id"] = eval_dataset_id
        if exclude is not UNSET:
            field_dict["exclude"] = exclude
        if finetune is not UNSET:
            field_dict["finetune"] = finetune
        if include is not UNSET:
            field_dict["include"] = include
        if max_examples is not UNSET:
            field_dict["max_examples"] = max_examples
        if max_length is not UNSET:
            field_dict["max_length"] = max_length
        if max_shard_bytes is not UNSET:
            field_dict["max_shard_bytes"] = max_shard_bytes
        if method is not UNSET:
            field_dict["method"] = method
        if onnx_ops is not UNSET:
            field_dict["onnx_ops"] = onnx_ops
        if output is not UNSET:
            field_dict["output"] = output
        if output_name is not UNSET:
            field_dict["output_name"] = output_name
        if scale_dtype is not UNSET:
            field_dict["scale_dtype"] = scale_dtype
        if scheme is not UNSET:
            field_dict["scheme"] = scheme
        if tolerable_loss is not UNSET:
            field_dict["tolerable_loss"] = tolerable_loss

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.finetune_spec import FinetuneSpec
        from ..models.scheme_spec import SchemeSpec

        d = dict(src_dict)
        model_id = UUID(d.pop("model_id"))

        def _parse_calibration_dataset_id(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                calibration_dataset_id_type_0 = UUID(data)

                return calibration_dataset_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        calibration_dataset_id = _parse_calibration_dataset_id(
            d.pop("calibration_dataset_id", UNSET)
        )

        def _parse_compressed_format(
            data: object,
        ) -> CompressedFormatSpec | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                compressed_format_type_1 = CompressedFormatSpec(data)

                return compressed_format_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(CompressedFormatSpec | None | Unset, data)

        compressed_format = _parse_compressed_format(d.pop("compressed_format", UNSET))

        def _parse_eval_dataset_id(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                eval_dataset_id_type_0 = UUID(data)

                return eval_dataset_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        eval_dataset_id = _parse_eval_dataset_id(d.pop("eval_dataset_id", UNSET))

        exclude = cast(list[str], d.pop("exclude", UNSET))

        def _parse_finetune(data: object) -> FinetuneSpec | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                finetune_type_1 = FinetuneSpec.from_dict(data)

                return finetune_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(FinetuneSpec | None | Unset, data)

        finetune = _parse_finetune(d.pop("finetune", UNSET))

        include = cast(list[str], d.pop("include", UNSET))

        def _parse_max_examples(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        max_examples = _parse_max_examples(d.pop("max_examples", UNSET))

        def _parse_max_length(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        max_length = _parse_max_length(d.pop("max_length", UNSET))

        def _parse_max_shard_bytes(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        max_shard_bytes = _parse_max_shard_bytes(d.pop("max_shard_bytes", UNSET))

        _method = d.pop("method", UNSET)
        method: MethodSpec | Unset
        if isinstance(_method, Unset):
            method = UNSET
        else:
            method = MethodSpec(_method)

        def _parse_onnx_ops(data: object) -> None | OnnxOpsSpec | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                onnx_ops_type_1 = OnnxOpsSpec(data)

                return onnx_ops_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | OnnxOpsSpec | Unset, data)

        onnx_ops = _parse_onnx_ops(d.pop("onnx_ops", UNSET))

        _output = d.pop("output", UNSET)
        output: OutputSpec | Unset
        if isinstance(_output, Unset):
            output = UNSET
        else:
            output = OutputSpec(_output)

        def _parse_output_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        output_name = _parse_output_name(d.pop("output_name", UNSET))

        def _parse_scale_dtype(data: object) -> None | ScaleDtypeSpec | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                scale_dtype_type_1 = ScaleDtypeSpec(data)

                return scale_dtype_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | ScaleDtypeSpec | Unset, data)

        scale_dtype = _parse_scale_dtype(d.pop("scale_dtype", UNSET))

        _scheme = d.pop("scheme", UNSET)
        scheme: SchemeSpec | Unset
        if isinstance(_scheme, Unset):
            scheme = UNSET
        else:
            scheme = SchemeSpec.from_dict(_scheme)

        def _parse_tolerable_loss(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        tolerable_loss = _parse_tolerable_loss(d.pop("tolerable_loss", UNSET))

        quantize_spec = cls(
            model_id=model_id,
            calibration_dataset_id=calibration_dataset_id,
            compressed_format=compressed_format,
            eval_dataset_id=eval_dataset_id,
            exclude=exclude,
            finetune=finetune,
            include=include,
            max_examples=max_examples,
            max_length=max_length,
            max_shard_bytes=max_shard_bytes,
            method=method,
            onnx_ops=onnx_ops,
            output=output,
            output_name=output_name,
            scale_dtype=scale_dtype,
            scheme=scheme,
            tolerable_loss=tolerable_loss,
        )

        return quantize_spec
