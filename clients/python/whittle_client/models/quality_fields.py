from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.evaluation_summary_classification import (
        EvaluationSummaryClassification,
    )
    from ..models.evaluation_summary_regression import EvaluationSummaryRegression


T = TypeVar("T", bound="QualityFields")


@_attrs_define
class QualityFields:
    """The headline metric before and after, and the evaluations.

    Attributes:
        eval_after (EvaluationSummaryClassification | EvaluationSummaryRegression): Headline figures of a
            [`ModelEvaluation`].
        eval_before (EvaluationSummaryClassification | EvaluationSummaryRegression): Headline figures of a
            [`ModelEvaluation`].
        metric (str):
        metric_drop (float):
        rows_per_s_after (float):
        rows_per_s_before (float):
        within_tolerable_loss (bool | None | Unset):
    """

    eval_after: EvaluationSummaryClassification | EvaluationSummaryRegression
    eval_before: EvaluationSummaryClassification | EvaluationSummaryRegression
    metric: str
    metric_drop: float
    rows_per_s_after: float
    rows_per_s_before: float
    within_tolerable_loss: bool | None | Unset = UNSET
    additional_properties: dict[str, float] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.evaluation_summary_classification import (
            EvaluationSummaryClassification,
        )

        eval_after: dict[str, Any]
        if isinstance(self.eval_after, EvaluationSummaryClassification):
            eval_after = self.eval_after.to_dict()
        else:
            eval_after = self.eval_after.to_dict()

        eval_before: dict[str, Any]
        if isinstance(self.eval_before, EvaluationSummaryClassification):
            eval_before = self.eval_before.to_dict()
        else:
            eval_before = self.eval_before.to_dict()

        metric = self.metric

        metric_drop = self.metric_drop

        rows_per_s_after = self.rows_per_s_after

        rows_per_s_before = self.rows_per_s_before

        within_tolerable_loss: bool | None | Unset
        if isinstance(self.within_tolerable_loss, Unset):
            within_tolerable_loss = UNSET
        else:
            within_tolerable_loss = self.within_tolerable_loss

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "eval_after": eval_after,
                "eval_before": eval_before,
                "metric": metric,
                "metric_drop": metric_drop,
                "rows_per_s_after": rows_per_s_after,
                "rows_per_s_before": rows_per_s_before,
            }
        )
        if within_tolerable_loss is not UNSET:
            field_dict["within_tolerable_loss"] = within_tolerable_loss

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.evaluation_summary_classification import (
            EvaluationSummaryClassification,
        )
        from ..models.evaluation_summary_regression import EvaluationSummaryRegression

        d = dict(src_dict)

        def _parse_eval_after(
            data: object,
        ) -> EvaluationSummaryClassification | EvaluationSummaryRegression:
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_evaluation_summary_type_0 = (
                    EvaluationSummaryClassification.from_dict(data)
                )

                return componentsschemas_evaluation_summary_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            componentsschemas_evaluation_summary_type_1 = (
                EvaluationSummaryRegression.from_dict(data)
            )

            return componentsschemas_evaluation_summary_type_1

        eval_after = _parse_eval_after(d.pop("eval_after"))

        def _parse_eval_before(
            data: object,
        ) -> EvaluationSummaryClassification | EvaluationSummaryRegression:
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_evaluation_summary_type_0 = (
                    EvaluationSummaryClassification.from_dict(data)
                )

                return componentsschemas_evaluation_summary_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            componentsschemas_evaluation_summary_type_1 = (
                EvaluationSummaryRegression.from_dict(data)
            )

            return componentsschemas_evaluation_summary_type_1

        eval_before = _parse_eval_before(d.pop("eval_before"))

        metric = d.pop("metric")

        metric_drop = d.pop("metric_drop")

        rows_per_s_after = d.pop("rows_per_s_after")

        rows_per_s_before = d.pop("rows_per_s_before")

        def _parse_within_tolerable_loss(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        within_tolerable_loss = _parse_within_tolerable_loss(
            d.pop("within_tolerable_loss", UNSET)
        )

        quality_fields = cls(
            eval_after=eval_after,
            eval_before=eval_before,
            metric=metric,
            metric_drop=metric_drop,
            rows_per_s_after=rows_per_s_after,
            rows_per_s_before=rows_per_s_before,
            within_tolerable_loss=within_tolerable_loss,
        )

        quality_fields.additional_properties = d
        return quality_fields

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> float:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: float) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
