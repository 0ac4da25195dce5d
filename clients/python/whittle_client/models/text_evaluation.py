from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.text_pooling import TextPooling
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.reference_comparison import ReferenceComparison
    from ..models.text_classification import TextClassification


T = TypeVar("T", bound="TextEvaluation")


@_attrs_define
class TextEvaluation:
    """A transformer's evaluation on a text dataset.

    Attributes:
        examples (int): Examples run.
        seconds (float):
        skipped_examples (int): Examples skipped because they tokenize to fewer than 2 tokens (decoders).
        tokens (int): Tokens run through the model (decoders: scored tokens).
        tokens_per_second (float):
        truncated_examples (int): Examples cut to `max_length` (encoders).
        architecture (str):
        family (str): `encoder` or `decoder`.
        max_length (int): Tokens per sequence (encoders: truncation length; decoders: window).
        classification (None | TextClassification | Unset):
        mean_nll (float | None | Unset): Decoders: mean negative log-likelihood (nats per token).
        peak_rss_bytes (int | None | Unset): Peak resident memory of the worker process so far, in bytes (Linux).
        perplexity (float | None | Unset): Decoders: `exp(mean NLL)` over every scored token.
        pooling (None | TextPooling | Unset):
        reference (None | ReferenceComparison | Unset):
        stride (int | None | Unset): Decoders: the window's stride.
    """

    examples: int
    seconds: float
    skipped_examples: int
    tokens: int
    tokens_per_second: float
    truncated_examples: int
    architecture: str
    family: str
    max_length: int
    classification: None | TextClassification | Unset = UNSET
    mean_nll: float | None | Unset = UNSET
    peak_rss_bytes: int | None | Unset = UNSET
    perplexity: float | None | Unset = UNSET
    pooling: None | TextPooling | Unset = UNSET
    reference: None | ReferenceComparison | Unset = UNSET
    stride: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.reference_comparison import ReferenceComparison
        from ..models.text_classification import TextClassification

        examples = self.examples

        seconds = self.seconds

        skipped_examples = self.skipped_examples

        tokens = self.tokens

        tokens_per_second = self.tokens_per_second

        truncated_examples = self.truncated_examples

        architecture = self.architecture

        family = self.family

        max_length = self.max_length

        classification: dict[str, Any] | None | Unset
        if isinstance(self.classification, Unset):
            classification = UNSET
        elif isinstance(self.classification, TextClassification):
            classification = self.classification.to_dict()
        else:
            classification = self.classification

        mean_nll: float | None | Unset
        if isinstance(self.mean_nll, Unset):
            mean_nll = UNSET
        else:
            mean_nll = self.mean_nll

        peak_rss_bytes: int | None | Unset
        if isinstance(self.peak_rss_bytes, Unset):
            peak_rss_bytes = UNSET
        else:
            peak_rss_bytes = self.peak_rss_bytes

        perplexity: float | None | Unset
        if isinstance(self.perplexity, Unset):
            perplexity = UNSET
        else:
            perplexity = self.perplexity

        pooling: None | str | Unset
        if isinstance(self.pooling, Unset):
            pooling = UNSET
        elif isinstance(self.pooling, TextPooling):
            pooling = self.pooling.value
        else:
            pooling = self.pooling

        reference: dict[str, Any] | None | Unset
        if isinstance(self.reference, Unset):
            reference = UNSET
        elif isinstance(self.reference, ReferenceComparison):
            reference = self.reference.to_dict()
        else:
            reference = self.reference

        stride: int | None | Unset
        if isinstance(self.stride, Unset):
            stride = UNSET
        else:
            stride = self.stride

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "examples": examples,
                "seconds": seconds,
                "skipped_examples": skipped_examples,
                "tokens": tokens,
                "tokens_per_second": tokens_per_second,
                "truncated_examples": truncated_examples,
                "architecture": architecture,
                "family": family,
                "max_length": max_length,
            }
        )
        if classification is not UNSET:
            field_dict["classification"] = classification
        if mean_nll is not UNSET:
            field_dict["mean_nll"] = mean_nll
        if peak_rss_bytes is not UNSET:
            field_dict["peak_rss_bytes"] = peak_rss_bytes
        if perplexity is not UNSET:
            field_dict["perplexity"] = perplexity
        if pooling is not UNSET:
            field_dict["pooling"] = pooling
        if reference is not UNSET:
            field_dict["reference"] = reference
        if stride is not UNSET:
            field_dict["stride"] = stride

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.reference_comparison import ReferenceComparison
        from ..models.text_classification import TextClassification

        d = dict(src_dict)
        examples = d.pop("examples")

        seconds = d.pop("seconds")

        skipped_examples = d.pop("skipped_examples")

        tokens = d.pop("tokens")

        tokens_per_second = d.pop("tokens_per_second")

        truncated_examples = d.pop("truncated_examples")

        architecture = d.pop("architecture")

        family = d.pop("family")

        max_length = d.pop("max_length")

        def _parse_classification(data: object) -> None | TextClassification | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                classification_type_1 = TextClassification.from_dict(data)

                return classification_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | TextClassification | Unset, data)

        classification = _parse_classification(d.pop("classification", UNSET))

        def _parse_mean_nll(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        mean_nll = _parse_mean_nll(d.pop("mean_nll", UNSET))

        def _parse_peak_rss_bytes(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        peak_rss_bytes = _parse_peak_rss_bytes(d.pop("peak_rss_bytes", UNSET))

        def _parse_perplexity(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        perplexity = _parse_perplexity(d.pop("perplexity", UNSET))

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

        def _parse_reference(data: object) -> None | ReferenceComparison | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                reference_type_1 = ReferenceComparison.from_dict(data)

                return reference_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | ReferenceComparison | Unset, data)

        reference = _parse_reference(d.pop("reference", UNSET))

        def _parse_stride(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        stride = _parse_stride(d.pop("stride", UNSET))

        text_evaluation = cls(
            examples=examples,
            seconds=seconds,
            skipped_examples=skipped_examples,
            tokens=tokens,
            tokens_per_second=tokens_per_second,
            truncated_examples=truncated_examples,
            architecture=architecture,
            family=family,
            max_length=max_length,
            classification=classification,
            mean_nll=mean_nll,
            peak_rss_bytes=peak_rss_bytes,
            perplexity=perplexity,
            pooling=pooling,
            reference=reference,
            stride=stride,
        )

        text_evaluation.additional_properties = d
        return text_evaluation

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
