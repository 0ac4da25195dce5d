from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.embedding_fidelity import EmbeddingFidelity
    from ..models.text_classification import TextClassification


T = TypeVar("T", bound="ReferenceComparison")


@_attrs_define
class ReferenceComparison:
    """A candidate beside its reference on the same examples.

    Attributes:
        model_id (UUID):
        classification (None | TextClassification | Unset):
        embeddings (EmbeddingFidelity | None | Unset):
        perplexity (float | None | Unset): Decoders: the reference's perplexity on the same windows.
        prediction_agreement (float | None | Unset): Encoders with a head: fraction of examples both classify the same.
        top1_agreement (float | None | Unset): Decoders: fraction of scored positions where both predict the same next
            token.
    """

    model_id: UUID
    classification: None | TextClassification | Unset = UNSET
    embeddings: EmbeddingFidelity | None | Unset = UNSET
    perplexity: float | None | Unset = UNSET
    prediction_agreement: float | None | Unset = UNSET
    top1_agreement: float | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.embedding_fidelity import EmbeddingFidelity
        from ..models.text_classification import TextClassification

        model_id = str(self.model_id)

        classification: dict[str, Any] | None | Unset
        if isinstance(self.classification, Unset):
            classification = UNSET
        elif isinstance(self.classification, TextClassification):
            classification = self.classification.to_dict()
        else:
            classification = self.classification

        embeddings: dict[str, Any] | None | Unset
        if isinstance(self.embeddings, Unset):
            embeddings = UNSET
        elif isinstance(self.embeddings, EmbeddingFidelity):
            embeddings = self.embeddings.to_dict()
        else:
            embeddings = self.embeddings

        perplexity: float | None | Unset
        if isinstance(self.perplexity, Unset):
            perplexity = UNSET
        else:
            perplexity = self.perplexity

        prediction_agreement: float | None | Unset
        if isinstance(self.prediction_agreement, Unset):
            prediction_agreement = UNSET
        else:
            prediction_agreement = self.prediction_agreement

        top1_agreement: float | None | Unset
        if isinstance(self.top1_agreement, Unset):
            top1_agreement = UNSET
        else:
            top1_agreement = self.top1_agreement

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "model_id": model_id,
            }
        )
        if classification is not UNSET:
            field_dict["classification"] = classification
        if embeddings is not UNSET:
            field_dict["embeddings"] = embeddings
        if perplexity is not UNSET:
            field_dict["perplexity"] = perplexity
        if prediction_agreement is not UNSET:
            field_dict["prediction_agreement"] = prediction_agreement
        if top1_agreement is not UNSET:
            field_dict["top1_agreement"] = top1_agreement

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.embedding_fidelity import EmbeddingFidelity
        from ..models.text_classification import TextClassification

        d = dict(src_dict)
        model_id = UUID(d.pop("model_id"))

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

        def _parse_embeddings(data: object) -> EmbeddingFidelity | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                embeddings_type_1 = EmbeddingFidelity.from_dict(data)

                return embeddings_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(EmbeddingFidelity | None | Unset, data)

        embeddings = _parse_embeddings(d.pop("embeddings", UNSET))

        def _parse_perplexity(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        perplexity = _parse_perplexity(d.pop("perplexity", UNSET))

        def _parse_prediction_agreement(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        prediction_agreement = _parse_prediction_agreement(
            d.pop("prediction_agreement", UNSET)
        )

        def _parse_top1_agreement(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        top1_agreement = _parse_top1_agreement(d.pop("top1_agreement", UNSET))

        reference_comparison = cls(
            model_id=model_id,
            classification=classification,
            embeddings=embeddings,
            perplexity=perplexity,
            prediction_agreement=prediction_agreement,
            top1_agreement=top1_agreement,
        )

        reference_comparison.additional_properties = d
        return reference_comparison

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
