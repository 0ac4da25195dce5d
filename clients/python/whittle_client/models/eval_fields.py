from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.quality_change import QualityChange
    from ..models.text_quality_change import TextQualityChange


T = TypeVar("T", bound="EvalFields")


@_attrs_define
class EvalFields:
    """The eval dataset's verdict in the result.

    Attributes:
        eval_after (float):
        eval_before (float):
        eval_loss (float):
        eval_metric (str):
        evaluation (QualityChange | TextQualityChange): An MLP's or a transformer's quality before and after.
        eval_prediction_agreement (float | None | Unset):
    """

    eval_after: float
    eval_before: float
    eval_loss: float
    eval_metric: str
    evaluation: QualityChange | TextQualityChange
    eval_prediction_agreement: float | None | Unset = UNSET
    additional_properties: dict[str, float] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
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

        eval_prediction_agreement: float | None | Unset
        if isinstance(self.eval_prediction_agreement, Unset):
            eval_prediction_agreement = UNSET
        else:
            eval_prediction_agreement = self.eval_prediction_agreement

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "eval_after": eval_after,
                "eval_before": eval_before,
                "eval_loss": eval_loss,
                "eval_metric": eval_metric,
                "evaluation": evaluation,
            }
        )
        if eval_prediction_agreement is not UNSET:
            field_dict["eval_prediction_agreement"] = eval_prediction_agreement

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.quality_change import QualityChange
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

        def _parse_eval_prediction_agreement(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        eval_prediction_agreement = _parse_eval_prediction_agreement(
            d.pop("eval_prediction_agreement", UNSET)
        )

        eval_fields = cls(
            eval_after=eval_after,
            eval_before=eval_before,
            eval_loss=eval_loss,
            eval_metric=eval_metric,
            evaluation=evaluation,
            eval_prediction_agreement=eval_prediction_agreement,
        )

        eval_fields.additional_properties = d
        return eval_fields

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
