from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.text_evaluation import TextEvaluation


T = TypeVar("T", bound="TextQualityChange")


@_attrs_define
class TextQualityChange:
    """A compressed model's quality beside its float original's.

    Attributes:
        after (float):
        after_report (TextEvaluation): A transformer's evaluation on a text dataset.
        before (float):
        before_report (TextEvaluation): A transformer's evaluation on a text dataset.
        loss (float):
        metric (str): `perplexity` (decoders; `loss` is the relative increase `after / before − 1`),
            `accuracy` (encoders with a classification head on labelled data; `loss` is
            `before − after`) or `embedding_cosine` (other encoders: mean cosine of the sentence
            embeddings to the float model's, 1 before; `loss` is `1 − after`).
        prediction_agreement (float | None | Unset): Decoders: next-token top-1 agreement with the float model; encoders
            with a head:
            prediction agreement.
    """

    after: float
    after_report: TextEvaluation
    before: float
    before_report: TextEvaluation
    loss: float
    metric: str
    prediction_agreement: float | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        after = self.after

        after_report = self.after_report.to_dict()

        before = self.before

        before_report = self.before_report.to_dict()

        loss = self.loss

        metric = self.metric

        prediction_agreement: float | None | Unset
        if isinstance(self.prediction_agreement, Unset):
            prediction_agreement = UNSET
        else:
            prediction_agreement = self.prediction_agreement

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "after": after,
                "after_report": after_report,
                "before": before,
                "before_report": before_report,
                "loss": loss,
                "metric": metric,
            }
        )
        if prediction_agreement is not UNSET:
            field_dict["prediction_agreement"] = prediction_agreement

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.text_evaluation import TextEvaluation

        d = dict(src_dict)
        after = d.pop("after")

        after_report = TextEvaluation.from_dict(d.pop("after_report"))

        before = d.pop("before")

        before_report = TextEvaluation.from_dict(d.pop("before_report"))

        loss = d.pop("loss")

        metric = d.pop("metric")

        def _parse_prediction_agreement(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        prediction_agreement = _parse_prediction_agreement(
            d.pop("prediction_agreement", UNSET)
        )

        text_quality_change = cls(
            after=after,
            after_report=after_report,
            before=before,
            before_report=before_report,
            loss=loss,
            metric=metric,
            prediction_agreement=prediction_agreement,
        )

        text_quality_change.additional_properties = d
        return text_quality_change

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
