from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..models.text_pooling import TextPooling
from ..types import UNSET, Unset

T = TypeVar("T", bound="EvaluateSpec")


@_attrs_define
class EvaluateSpec:
    """Spec of an `evaluate` job.

    Attributes:
        dataset_id (UUID): MLPs: a labelled dataset with the model's input features. Transformers: a text
            dataset (labels give an encoder with a classification head accuracy and F1).
        model_id (UUID): An MLP model (trained by whittle or uploaded with MLP metadata), or a transformer
            folder (BERT-family encoder, Llama-family decoder) with its tokenizer.
        batch_size (int | None | Unset): MLPs: rows per forward pass when measuring throughput (default: all rows at
            once).
            Transformers: sequences per forward pass of an encoder (default 16).
        max_examples (int | None | Unset): Transformers: evaluate the first this many examples (default: all).
        max_length (int | None | Unset): Transformers: tokens per sequence (encoders truncate to it; decoders score
            windows
            of it). Default: 128 for encoders, 512 for decoders, at most the model's positions.
        normalize (bool | None | Unset): Encoders: L2-normalize the pooled embeddings (default true).
        pooling (None | TextPooling | Unset):
        reference_model_id (None | Unset | UUID): Transformers: a model of the same family and vocabulary to compare
            with (e.g. the
            float original of a quantized model): decoders report its perplexity and next-token
            top-1 agreement, encoders the fidelity of the sentence embeddings (mean/min cosine,
            Spearman ρ of pairwise similarities, nearest-neighbour agreement).
        stride (int | None | Unset): Decoders: how far the perplexity window moves (each token is scored once, with up
            to `max_length − stride` tokens of context carried over). Default `max_length / 2`.
    """

    dataset_id: UUID
    model_id: UUID
    batch_size: int | None | Unset = UNSET
    max_examples: int | None | Unset = UNSET
    max_length: int | None | Unset = UNSET
    normalize: bool | None | Unset = UNSET
    pooling: None | TextPooling | Unset = UNSET
    reference_model_id: None | Unset | UUID = UNSET
    stride: int | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        dataset_id = str(self.dataset_id)

        model_id = str(self.model_id)

        batch_size: int | None | Unset
        if isinstance(self.batch_size, Unset):
            batch_size = UNSET
        else:
            batch_size = self.batch_size

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

        normalize: bool | None | Unset
        if isinstance(self.normalize, Unset):
            normalize = UNSET
        else:
            normalize = self.normalize

        pooling: None | str | Unset
        if isinstance(self.pooling, Unset):
            pooling = UNSET
        elif isinstance(self.pooling, TextPooling):
            pooling = self.pooling.value
        else:
            pooling = self.pooling

        reference_model_id: None | str | Unset
        if isinstance(self.reference_model_id, Unset):
            reference_model_id = UNSET
        elif isinstance(self.reference_model_id, UUID):
            reference_model_id = str(self.reference_model_id)
        else:
            reference_model_id = self.reference_model_id

        stride: int | None | Unset
        if isinstance(self.stride, Unset):
            stride = UNSET
        else:
            stride = self.stride

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "dataset_id": dataset_id,
                "model_id": model_id,
            }
        )
        if batch_size is not UNSET:
            field_dict["batch_size"] = batch_size
        if max_examples is not UNSET:
            field_dict["max_examples"] = max_examples
        if max_length is not UNSET:
            field_dict["max_length"] = max_length
        if normalize is not UNSET:
            field_dict["normalize"] = normalize
        if pooling is not UNSET:
            field_dict["pooling"] = pooling
        if reference_model_id is not UNSET:
            field_dict["reference_model_id"] = reference_model_id
        if stride is not UNSET:
            field_dict["stride"] = stride

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        dataset_id = UUID(d.pop("dataset_id"))

        model_id = UUID(d.pop("model_id"))

        def _parse_batch_size(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        batch_size = _parse_batch_size(d.pop("batch_size", UNSET))

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

        def _parse_normalize(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        normalize = _parse_normalize(d.pop("normalize", UNSET))

        def _parse_pooling(data: object) -> None | TextPooling | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                pooling_type_1 = TextPooling(data)

                return pooling_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | TextPooling | Unset, data)

        pooling = _parse_pooling(d.pop("pooling", UNSET))

        def _parse_reference_model_id(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                reference_model_id_type_0 = UUID(data)

                return reference_model_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        reference_model_id = _parse_reference_model_id(
            d.pop("reference_model_id", UNSET)
        )

        def _parse_stride(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        stride = _parse_stride(d.pop("stride", UNSET))

        evaluate_spec = cls(
            dataset_id=dataset_id,
            model_id=model_id,
            batch_size=batch_size,
            max_examples=max_examples,
            max_length=max_length,
            normalize=normalize,
            pooling=pooling,
            reference_model_id=reference_model_id,
            stride=stride,
        )

        return evaluate_spec
