from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.prune_method import PruneMethod
from ..models.scope import Scope
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.calibration_report import CalibrationReport
    from ..models.finetune_report import FinetuneReport
    from ..models.gradual_round import GradualRound
    from ..models.skipped_tensor import SkippedTensor
    from ..models.sparsity import Sparsity
    from ..models.tensor_pruned import TensorPruned
    from ..models.text_quality_change import TextQualityChange


T = TypeVar("T", bound="PruneResultTextQualityFields")


@_attrs_define
class PruneResultTextQualityFields:
    """The result of a `prune` job.

    Attributes:
        evaluation (TextQualityChange): A compressed model's quality beside its float original's.
        loss (float): What `tolerable_loss` bounds: the relative perplexity increase, the accuracy drop or
            `1 − cosine`.
        metric (str): `perplexity`, `accuracy` or `embedding_cosine` (see `evaluation.metric`).
        bytes_after (int):
        bytes_before (int):
        global_ (Sparsity): Zeros over several tensors.
        model_id (UUID):
        nonzero_params_after (int):
        params_after (int):
        params_before (int):
        speedup_note (str):
        storage (str): Always `dense`: pruned weights are stored as zeros.
        tensors (list[TensorPruned]): The pruned tensors.
        within_tolerable_loss (bool | None | Unset):
        cutoff_magnitude (float | None | Unset): The global magnitude cutoff (streamed global magnitude).
        pattern (None | str | Unset): `n:m` of an N:M pattern.
        scope (None | Scope | Unset):
        target_sparsity (float | None | Unset):
        threshold (float | None | Unset):
        calibration (CalibrationReport | None | Unset):
        finetune (FinetuneReport | None | Unset):
        gradual_rounds (list[GradualRound] | None | Unset):
        hidden_sizes_after (list[int] | None | Unset):
        hidden_sizes_before (list[int] | None | Unset):
        layer_sizes_after (list[int] | None | Unset):
        layer_sizes_before (list[int] | None | Unset):
        method (None | PruneMethod | Unset):
        skipped_tensors (list[SkippedTensor] | None | Unset): Selected tensors left alone (streamed models: dtypes that
            cannot be pruned).
    """

    evaluation: TextQualityChange
    loss: float
    metric: str
    bytes_after: int
    bytes_before: int
    global_: Sparsity
    model_id: UUID
    nonzero_params_after: int
    params_after: int
    params_before: int
    speedup_note: str
    storage: str
    tensors: list[TensorPruned]
    within_tolerable_loss: bool | None | Unset = UNSET
    cutoff_magnitude: float | None | Unset = UNSET
    pattern: None | str | Unset = UNSET
    scope: None | Scope | Unset = UNSET
    target_sparsity: float | None | Unset = UNSET
    threshold: float | None | Unset = UNSET
    calibration: CalibrationReport | None | Unset = UNSET
    finetune: FinetuneReport | None | Unset = UNSET
    gradual_rounds: list[GradualRound] | None | Unset = UNSET
    hidden_sizes_after: list[int] | None | Unset = UNSET
    hidden_sizes_before: list[int] | None | Unset = UNSET
    layer_sizes_after: list[int] | None | Unset = UNSET
    layer_sizes_before: list[int] | None | Unset = UNSET
    method: None | PruneMethod | Unset = UNSET
    skipped_tensors: list[SkippedTensor] | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.calibration_report import CalibrationReport
        from ..models.finetune_report import FinetuneReport

        evaluation = self.evaluation.to_dict()

        loss = self.loss

        metric = self.metric

        bytes_after = self.bytes_after

        bytes_before = self.bytes_before

        global_ = self.global_.to_dict()

        model_id = str(self.model_id)

        nonzero_params_after = self.nonzero_params_after

        params_after = self.params_after

        params_before = self.params_before

        speedup_note = self.speedup_note

        storage = self.storage

        tensors = []
        for tensors_item_data in self.tensors:
            tensors_item = tensors_item_data.to_dict()
            tensors.append(tensors_item)

        within_tolerable_loss: bool | None | Unset
        if isinstance(self.within_tolerable_loss, Unset):
            within_tolerable_loss = UNSET
        else:
            within_tolerable_loss = self.within_tolerable_loss

        cutoff_magnitude: float | None | Unset
        if isinstance(self.cutoff_magnitude, Unset):
            cutoff_magnitude = UNSET
        else:
            cutoff_magnitude = self.cutoff_magnitude

        pattern: None | str | Unset
        if isinstance(self.pattern, Unset):
            pattern = UNSET
        else:
            pattern = self.pattern

        scope: None | str | Unset
        if isinstance(self.scope, Unset):
            scope = UNSET
        elif isinstance(self.scope, Scope):
            scope = self.scope.value
        else:
            scope = self.scope

        target_sparsity: float | None | Unset
        if isinstance(self.target_sparsity, Unset):
            target_sparsity = UNSET
        else:
            target_sparsity = self.target_sparsity

        threshold: float | None | Unset
        if isinstance(self.threshold, Unset):
            threshold = UNSET
        else:
            threshold = self.threshold

        calibration: dict[str, Any] | None | Unset
        if isinstance(self.calibration, Unset):
            calibration = UNSET
        elif isinstance(self.calibration, CalibrationReport):
            calibration = self.calibration.to_dict()
        else:
            calibration = self.calibration

        finetune: dict[str, Any] | None | Unset
        if isinstance(self.finetune, Unset):
            finetune = UNSET
        elif isinstance(self.finetune, FinetuneReport):
            finetune = self.finetune.to_dict()
        else:
            finetune = self.finetune

        gradual_rounds: list[dict[str, Any]] | None | Unset
        if isinstance(self.gradual_rounds, Unset):
            gradual_rounds = UNSET
        elif isinstance(self.gradual_rounds, list):
            gradual_rounds = []
            for gradual_rounds_type_0_item_data in self.gradual_rounds:
                gradual_rounds_type_0_item = gradual_rounds_type_0_item_data.to_dict()
                gradual_rounds.append(gradual_rounds_type_0_item)

        else:
            gradual_rounds = self.gradual_rounds

        hidden_sizes_after: list[int] | None | Unset
        if isinstance(self.hidden_sizes_after, Unset):
            hidden_sizes_after = UNSET
        elif isinstance(self.hidden_sizes_after, list):
            hidden_sizes_after = self.hidden_sizes_after

        else:
            hidden_sizes_after = self.hidden_sizes_after

        hidden_sizes_before: list[int] | None | Unset
        if isinstance(self.hidden_sizes_before, Unset):
            hidden_sizes_before = UNSET
        elif isinstance(self.hidden_sizes_before, list):
            hidden_sizes_before = self.hidden_sizes_before

        else:
            hidden_sizes_before = self.hidden_sizes_before

        layer_sizes_after: list[int] | None | Unset
        if isinstance(self.layer_sizes_after, Unset):
            layer_sizes_after = UNSET
        elif isinstance(self.layer_sizes_after, list):
            layer_sizes_after = self.layer_sizes_after

        else:
            layer_sizes_after = self.layer_sizes_after

        layer_sizes_before: list[int] | None | Unset
        if isinstance(self.layer_sizes_before, Unset):
            layer_sizes_before = UNSET
        elif isinstance(self.layer_sizes_before, list):
            layer_sizes_before = self.layer_sizes_before

        else:
            layer_sizes_before = self.layer_sizes_before

        method: None | str | Unset
        if isinstance(self.method, Unset):
            method = UNSET
        elif isinstance(self.method, PruneMethod):
            method = self.method.value
        else:
            method = self.method

        skipped_tensors: list[dict[str, Any]] | None | Unset
        if isinstance(self.skipped_tensors, Unset):
            skipped_tensors = UNSET
        elif isinstance(self.skipped_tensors, list):
            skipped_tensors = []
            for skipped_tensors_type_0_item_data in self.skipped_tensors:
                skipped_tensors_type_0_item = skipped_tensors_type_0_item_data.to_dict()
                skipped_tensors.append(skipped_tensors_type_0_item)

        else:
            skipped_tensors = self.skipped_tensors

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "evaluation": evaluation,
                "loss": loss,
                "metric": metric,
                "bytes_after": bytes_after,
                "bytes_before": bytes_before,
                "global": global_,
                "model_id": model_id,
                "nonzero_params_after": nonzero_params_after,
                "params_after": params_after,
                "params_before": params_before,
                "speedup_note": speedup_note,
                "storage": storage,
                "tensors": tensors,
            }
        )
        if within_tolerable_loss is not UNSET:
            field_dict["within_tolerable_loss"] = within_tolerable_loss
        if cutoff_magnitude is not UNSET:
            field_dict["cutoff_magnitude"] = cutoff_magnitude
        if pattern is not UNSET:
            field_dict["pattern"] = pattern
        if scope is not UNSET:
            field_dict["scope"] = scope
        if target_sparsity is not UNSET:
            field_dict["target_sparsity"] = target_sparsity
        if threshold is not UNSET:
            field_dict["threshold"] = threshold
        if calibration is not UNSET:
            field_dict["calibration"] = calibration
        if finetune is not UNSET:
            field_dict["finetune"] = finetune
        if gradual_rounds is not UNSET:
            field_dict["gradual_rounds"] = gradual_rounds
        if hidden_sizes_after is not UNSET:
            field_dict["hidden_sizes_after"] = hidden_sizes_after
        if hidden_sizes_before is not UNSET:
            field_dict["hidden_sizes_before"] = hidden_sizes_before
        if layer_sizes_after is not UNSET:
            field_dict["layer_sizes_after"] = layer_sizes_after
        if layer_sizes_before is not UNSET:
            field_dict["layer_sizes_before"] = layer_sizes_before
        if method is not UNSET:
            field_dict["method"] = method
        if skipped_tensors is not UNSET:
            field_dict["skipped_tensors"] = skipped_tensors

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.calibration_report import CalibrationReport
        from ..models.finetune_report import FinetuneReport
        from ..models.gradual_round import GradualRound
        from ..models.skipped_tensor import SkippedTensor
        from ..models.sparsity import Sparsity
        from ..models.tensor_pruned import TensorPruned
        from ..models.text_quality_change import TextQualityChange

        d = dict(src_dict)
        evaluation = TextQualityChange.from_dict(d.pop("evaluation"))

        loss = d.pop("loss")

        metric = d.pop("metric")

        bytes_after = d.pop("bytes_after")

        bytes_before = d.pop("bytes_before")

        global_ = Sparsity.from_dict(d.pop("global"))

        model_id = UUID(d.pop("model_id"))

        nonzero_params_after = d.pop("nonzero_params_after")

        params_after = d.pop("params_after")

        params_before = d.pop("params_before")

        speedup_note = d.pop("speedup_note")

        storage = d.pop("storage")

        tensors = []
        _tensors = d.pop("tensors")
        for tensors_item_data in _tensors:
            tensors_item = TensorPruned.from_dict(tensors_item_data)

            tensors.append(tensors_item)

        def _parse_within_tolerable_loss(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        within_tolerable_loss = _parse_within_tolerable_loss(
            d.pop("within_tolerable_loss", UNSET)
        )

        def _parse_cutoff_magnitude(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        cutoff_magnitude = _parse_cutoff_magnitude(d.pop("cutoff_magnitude", UNSET))

        def _parse_pattern(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        pattern = _parse_pattern(d.pop("pattern", UNSET))

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

        def _parse_target_sparsity(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        target_sparsity = _parse_target_sparsity(d.pop("target_sparsity", UNSET))

        def _parse_threshold(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        threshold = _parse_threshold(d.pop("threshold", UNSET))

        def _parse_calibration(data: object) -> CalibrationReport | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                calibration_type_1 = CalibrationReport.from_dict(data)

                return calibration_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(CalibrationReport | None | Unset, data)

        calibration = _parse_calibration(d.pop("calibration", UNSET))

        def _parse_finetune(data: object) -> FinetuneReport | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                finetune_type_1 = FinetuneReport.from_dict(data)

                return finetune_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(FinetuneReport | None | Unset, data)

        finetune = _parse_finetune(d.pop("finetune", UNSET))

        def _parse_gradual_rounds(data: object) -> list[GradualRound] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                gradual_rounds_type_0 = []
                _gradual_rounds_type_0 = data
                for gradual_rounds_type_0_item_data in _gradual_rounds_type_0:
                    gradual_rounds_type_0_item = GradualRound.from_dict(
                        gradual_rounds_type_0_item_data
                    )

                    gradual_rounds_type_0.append(gradual_rounds_type_0_item)

                return gradual_rounds_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[GradualRound] | None | Unset, data)

        gradual_rounds = _parse_gradual_rounds(d.pop("gradual_rounds", UNSET))

        def _parse_hidden_sizes_after(data: object) -> list[int] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                hidden_sizes_after_type_0 = cast(list[int], data)

                return hidden_sizes_after_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[int] | None | Unset, data)

        hidden_sizes_after = _parse_hidden_sizes_after(
            d.pop("hidden_sizes_after", UNSET)
        )

        def _parse_hidden_sizes_before(data: object) -> list[int] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                hidden_sizes_before_type_0 = cast(list[int], data)

                return hidden_sizes_before_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[int] | None | Unset, data)

        hidden_sizes_before = _parse_hidden_sizes_before(
            d.pop("hidden_sizes_before", UNSET)
        )

        def _parse_layer_sizes_after(data: object) -> list[int] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                layer_sizes_after_type_0 = cast(list[int], data)

                return layer_sizes_after_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[int] | None | Unset, data)

        layer_sizes_after = _parse_layer_sizes_after(d.pop("layer_sizes_after", UNSET))

        def _parse_layer_sizes_before(data: object) -> list[int] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                layer_sizes_before_type_0 = cast(list[int], data)

                return layer_sizes_before_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[int] | None | Unset, data)

        layer_sizes_before = _parse_layer_sizes_before(
            d.pop("layer_sizes_before", UNSET)
        )

        def _parse_method(data: object) -> None | PruneMethod | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                method_type_1 = PruneMethod(data)

                return method_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | PruneMethod | Unset, data)

        method = _parse_method(d.pop("method", UNSET))

        def _parse_skipped_tensors(data: object) -> list[SkippedTensor] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                skipped_tensors_type_0 = []
                _skipped_tensors_type_0 = data
                for skipped_tensors_type_0_item_data in _skipped_tensors_type_0:
                    skipped_tensors_type_0_item = SkippedTensor.from_dict(
                        skipped_tensors_type_0_item_data
                    )

                    skipped_tensors_type_0.append(skipped_tensors_type_0_item)

                return skipped_tensors_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[SkippedTensor] | None | Unset, data)

        skipped_tensors = _parse_skipped_tensors(d.pop("skipped_tensors", UNSET))

        prune_result_text_quality_fields = cls(
            evaluation=evaluation,
            loss=loss,
            metric=metric,
            bytes_after=bytes_after,
            bytes_before=bytes_before,
            global_=global_,
            model_id=model_id,
            nonzero_params_after=nonzero_params_after,
            params_after=params_after,
            params_before=params_before,
            speedup_note=speedup_note,
            storage=storage,
            tensors=tensors,
            within_tolerable_loss=within_tolerable_loss,
            cutoff_magnitude=cutoff_magnitude,
            pattern=pattern,
            scope=scope,
            target_sparsity=target_sparsity,
            threshold=threshold,
            calibration=calibration,
            finetune=finetune,
            gradual_rounds=gradual_rounds,
            hidden_sizes_after=hidden_sizes_after,
            hidden_sizes_before=hidden_sizes_before,
            layer_sizes_after=layer_sizes_after,
            layer_sizes_before=layer_sizes_before,
            method=method,
            skipped_tensors=skipped_tensors,
        )

        prune_result_text_quality_fields.additional_properties = d
        return prune_result_text_quality_fields

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
