from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.model_evaluation_classification import ModelEvaluationClassification
    from ..models.model_evaluation_regression import ModelEvaluationRegression


T = TypeVar("T", bound="QualityChange")


@_attrs_define
class QualityChange:
    """The eval dataset's headline metric before and after quantization.

    Attributes:
        after (float):
        after_report (ModelEvaluationClassification | ModelEvaluationRegression): The metrics of a model on a dataset
            (the `evaluate` result and the before/after reports
            of quantize and prune).
        before (float):
        before_report (ModelEvaluationClassification | ModelEvaluationRegression): The metrics of a model on a dataset
            (the `evaluate` result and the before/after reports
            of quantize and prune).
        loss (float): `before − after`.
        metric (str):
        prediction_agreement (float | None | Unset): Fraction of rows whose predicted class did not change
            (classification).
    """

    after: float
    after_report: ModelEvaluationClassification | ModelEvaluationRegression
    before: float
    before_report: ModelEvaluationClassification | ModelEvaluationRegression
    loss: float
    metric: str
    prediction_agreement: float | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.model_evaluation_classification import (
            ModelEvaluationClassification,
        )

        after = self.after

        after_report: dict[str, Any]
        if isinstance(self.after_report, ModelEvaluationClassification):
            after_report = self.after_report.to_dict()
        else:
            after_report = self.after_report.to_dict()

        before = self.before

        before_report: dict[str, Any]
        if isinstance(self.before_report, ModelEvaluationClassification):
            before_report = self.before_report.to_dict()
        else:
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
        from ..models.model_evaluation_classification import (
            ModelEvaluationClassification,
        )
        from ..models.model_evaluation_regression import ModelEvaluationRegression

        d = dict(src_dict)
        after = d.pop("after")

        def _parse_after_report(
            data: object,
        ) -> ModelEvaluationClassification | ModelEvaluationRegression:
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_model_evaluation_type_0 = (
                    ModelEvaluationClassification.from_dict(data)
                )

                return componentsschemas_model_evaluation_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            componentsschemas_model_evaluation_type_1 = (
                ModelEvaluationRegression.from_dict(data)
            )

            return componentsschemas_model_evaluation_type_1

        after_report = _parse_after_report(d.pop("after_report"))

        before = d.pop("before")

        def _parse_before_report(
            data: object,
        ) -> ModelEvaluationClassification | ModelEvaluationRegression:
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_model_evaluation_type_0 = (
                    ModelEvaluationClassification.from_dict(data)
                )

                return componentsschemas_model_evaluation_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            componentsschemas_model_evaluation_type_1 = (
                ModelEvaluationRegression.from_dict(data)
            )

            return componentsschemas_model_evaluation_type_1

        before_report = _parse_before_report(d.pop("before_report"))

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

        quality_change = cls(
            after=after,
            after_report=after_report,
            before=before,
            before_report=before_report,
            loss=loss,
            metric=metric,
            prediction_agreement=prediction_agreement,
        )

        quality_change.additional_properties = d
        return quality_change

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
