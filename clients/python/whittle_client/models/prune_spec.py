from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..models.norm import Norm
from ..models.output_dtype_spec import OutputDtypeSpec
from ..models.prune_method import PruneMethod
from ..models.scope import Scope
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.gradual_spec import GradualSpec
    from ..models.prune_finetune_spec import PruneFinetuneSpec


T = TypeVar("T", bound="PruneSpec")


@_attrs_define
class PruneSpec:
    """Spec of a `prune` job.

    Attributes:
        method (PruneMethod): How weights are chosen.
        model_id (UUID): The model to prune (any safetensors model; some options need an MLP).
        calibration_dataset_id (None | Unset | UUID): Wanda: dataset whose rows give the input activation norms (a text
            dataset for a
            transformer, run block by block through the model).
        eval_dataset_id (None | Unset | UUID): Measure quality before and after on this dataset: MLPs accuracy (or R²)
            and
            throughput; transformers a text dataset, as quantize's `eval_dataset_id`.
        exclude (list[str] | Unset): Skip tensors whose names match one of these globs.
        finetune (None | PruneFinetuneSpec | Unset):
        gradual (GradualSpec | None | Unset):
        include (list[str] | Unset): Only tensors whose names match one of these globs (default: every float tensor with
            2 or more dimensions; biases and other 1-D tensors are never pruned).
        m (int | None | Unset): N:M: group size along the input dimension.
        max_examples (int | None | Unset): Transformers: use the first this many examples of the eval dataset (default:
            all)
            and of the calibration dataset (default 256).
        max_length (int | None | Unset): Transformers: tokens per sequence of the eval and calibration text (encoders
            truncate to it; decoders score perplexity windows of it and calibrate on chunks of
            it). Default: 128 for encoders, 512 for decoders, at most the model's positions.
        max_shard_bytes (int | None | Unset): Largest shard (tensor bytes) of a folder output, at least 1024 (default 5
            GB, as
            transformers' `save_pretrained`). Applies when the input model is a folder.
        n (int | None | Unset): N:M: weights kept per group (nm, or wanda's N:M variant).
        norm (Norm | Unset): Norm used to score a neuron's incoming weights.
        output_dtype (None | OutputDtypeSpec | Unset):
        output_name (None | str | Unset): Name of the output model.
        scope (None | Scope | Unset):
        sparsity (float | None | Unset): Fraction of the selected weights (neurons for structured) to prune, in [0, 1).
            Required by magnitude, structured and wanda (unless wanda uses n/m).
        threshold (float | None | Unset): Threshold method: weights with `|w| <` this are pruned.
        tolerable_loss (float | None | Unset): Fail when the metric's loss exceeds this (needs eval_dataset_id;
            transformers: the
            relative perplexity increase, accuracy drop or `1 − cosine`).
    """

    method: PruneMethod
    model_id: UUID
    calibration_dataset_id: None | Unset | UUID = UNSET
    eval_dataset_id: None | Unset | UUID = UNSET
    exclude: list[str] | Unset = UNSET
    finetune: None | PruneFinetuneSpec | Unset = UNSET
    gradual: GradualSpec | None | Unset = UNSET
    include: list[str] | Unset = UNSET
    m: int | None | Unset = UNSET
    max_examples: int | None | Unset = UNSET
    max_length: int | None | Unset = UNSET
    max_shard_bytes: int | None | Unset = UNSET
    n: int | None | Unset = UNSET
    norm: Norm | Unset = UNSET
    output_dtype: None | OutputDtypeSpec | Unset = UNSET
    output_name: None | str | Unset = UNSET
    scope: None | Scope | Unset = UNSET
    sparsity: float | None | Unset = UNSET
    threshold: float | None | Unset = UNSET
    tolerable_loss: float | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.gradual_spec import GradualSpec
        from ..models.prune_finetune_spec import PruneFinetuneSpec

        method = self.method.value

        model_id = str(self.model_id)

        calibration_dataset_id: None | str | Unset
        if isinstance(self.calibration_dataset_id, Unset):
            calibration_dataset_id = UNSET
        elif isinstance(self.calibration_dataset_id, UUID):
            calibration_dataset_id = str(self.calibration_dataset_id)
        else:
            calibration_dataset_id = self.calibration_dataset_id

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
        elif isinstance(self.finetune, PruneFinetuneSpec):
            finetune = self.finetune.to_dict()
        else:
            finetune = self.finetune

        gradual: dict[str, Any] | None | Unset
        if isinstance(self.gradual, Unset):
            gradual = UNSET
        elif isinstance(self.gradual, GradualSpec):
            gradual = self.gradual.to_dict()
        else:
            gradual = self.gradual

        include: list[str] | Unset = UNSET
        if not isinstance(self.include, Unset):
            include = self.include

        m: int | None | Unset
        if isinstance(self.m, Unset):
            m = UNSET
        else:
            m = self.m

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

        n: int | None | Unset
        if isinstance(self.n, Unset):
            n = UNSET
        else:
            n = self.n

        norm: str | Unset = UNSET
        if not isinstance(self.norm, Unset):
            norm = self.norm.value

        output_dtype: None | str | Unset
        if isinstance(self.output_dtype, Unset):
            output_dtype = UNSET
        elif isinstance(self.output_dtype, OutputDtypeSpec):
            output_dtype = self.output_dtype.value
        else:
            output_dtype = self.output_dtype

        output_name: None | str | Unset
        if isinstance(self.output_name, Unset):
            output_name = UNSET
        else:
            output_name = self.output_name

        scope: None | str | Unset
        if isinstance(self.scope, Unset):
            scope = UNSET
        elif isinstance(self.scope, Scope):
            scope = self.scope.value
        else:
            scope = self.scope

        sparsity: float | None | Unset
        if isinstance(self.sparsity, Unset):
            sparsity = UNSET
        else:
            sparsity = self.sparsity

        threshold: float | None | Unset
        if isinstance(self.threshold, Unset):
            threshold = UNSET
        else:
            threshold = self.threshold

        tolerable_loss: float | None | Unset
        if isinstance(self.tolerable_loss, Unset):
            tolerable_loss = UNSET
        else:
            tolerable_loss = self.tolerable_loss

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "method": method,
                "model_id": model_id,
            }
        )
        if calibration_dataset_id is not UNSET:
            field_dict["calibration_dataset_id"] = calibration_dataset_id
        if eval_dataset_id is not UNSET:
            field_dict["eval_dataset_id"] = eval_dataset_id
        if exclude is not UNSET:
            field_dict["exclude"] = exclude
        if finetune is not UNSET:
            field_dict["finetune"] = finetune
        if gradual is not UNSET:
            field_dict["gradual"] = gradual
        if include is not UNSET:
            field_dict["include"] = include
        if m is not UNSET:
            field_dict["m"] = m
        if max_examples is not UNSET:
            field_dict["max_examples"] = max_examples
        if max_length is not UNSET:
            field_dict["max_length"] = max_length
        if max_shard_bytes is not UNSET:
            field_dict["max_shard_bytes"] = max_shard_bytes
        if n is not UNSET:
            field_dict["n"] = n
        if norm is not UNSET:
            field_dict["norm"] = norm
        if output_dtype is not UNSET:
            field_dict["output_dtype"] = output_dtype
        if output_name is not UNSET:
            field_dict["output_name"] = output_name
        if scope is not UNSET:
            field_dict["scope"] = scope
        if sparsity is not UNSET:
            field_dict["sparsity"] = sparsity
        if threshold is not UNSET:
            field_dict["threshold"] = threshold
        if tolerable_loss is not UNSET:
            field_dict["tolerable_loss"] = tolerable_loss

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.gradual_spec import GradualSpec
        from ..models.prune_finetune_spec import PruneFinetuneSpec

        d = dict(src_dict)
        method = PruneMethod(d.pop("method"))

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

        def _parse_finetune(data: object) -> None | PruneFinetuneSpec | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                finetune_type_1 = PruneFinetuneSpec.from_dict(data)

                return finetune_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | PruneFinetuneSpec | Unset, data)

        finetune = _parse_finetune(d.pop("finetune", UNSET))

        def _parse_gradual(data: object) -> GradualSpec | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                gradual_type_1 = GradualSpec.from_dict(data)

                return gradual_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(GradualSpec | None | Unset, data)

        gradual = _parse_gradual(d.pop("gradual", UNSET))

        include = cast(list[str], d.pop("include", UNSET))

        def _parse_m(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        m = _parse_m(d.pop("m", UNSET))

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

        def _parse_n(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        n = _parse_n(d.pop("n", UNSET))

        _norm = d.pop("norm", UNSET)
        norm: Norm | Unset
        if isinstance(_norm, Unset):
            norm = UNSET
        else:
            norm = Norm(_norm)

        def _parse_output_dtype(data: object) -> None | OutputDtypeSpec | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                output_dtype_type_1 = OutputDtypeSpec(data)

                return output_dtype_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | OutputDtypeSpec | Unset, data)

        output_dtype = _parse_output_dtype(d.pop("output_dtype", UNSET))

        def _parse_output_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        output_name = _parse_output_name(d.pop("output_name", UNSET))

        def _parse_scope(data: object) -> None | Scope | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                scope_type_1 = Scope(data)

                return scope_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Scope | Unset, data)

        scope = _parse_scope(d.pop("scope", UNSET))

        def _parse_sparsity(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        sparsity = _parse_sparsity(d.pop("sparsity", UNSET))

        def _parse_threshold(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        threshold = _parse_threshold(d.pop("threshold", UNSET))

        def _parse_tolerable_loss(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        tolerable_loss = _parse_tolerable_loss(d.pop("tolerable_loss", UNSET))

        prune_spec = cls(
            method=method,
            model_id=model_id,
            calibration_dataset_id=calibration_dataset_id,
            eval_dataset_id=eval_dataset_id,
            exclude=exclude,
            finetune=finetune,
            gradual=gradual,
            include=include,
            m=m,
            max_examples=max_examples,
            max_length=max_length,
            max_shard_bytes=max_shard_bytes,
            n=n,
            norm=norm,
            output_dtype=output_dtype,
            output_name=output_name,
            scope=scope,
            sparsity=sparsity,
            threshold=threshold,
            tolerable_loss=tolerable_loss,
        )

        return prune_spec
