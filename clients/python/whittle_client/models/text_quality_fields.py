from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.text_quality_change import TextQualityChange


T = TypeVar("T", bound="TextQualityFields")


@_attrs_define
class TextQualityFields:
    """A transformer's quality on a text eval dataset before and after.

    Attributes:
        evaluation (TextQualityChange): A compressed model's quality beside its float original's.
        loss (float): What `tolerable_loss` bounds: the relative perplexity increase, the accuracy drop or
            `1 − cosine`.
        metric (str): `perplexity`, `accuracy` or `embedding_cosine` (see `evaluation.metric`).
        within_tolerable_loss (bool | None | Unset):
    """

    evaluation: TextQualityChange
    loss: float
    metric: str
    within_tolerable_loss: bool | None | Unset = UNSET
    additional_properties: dict[str, float] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        evaluation = self.evaluation.to_dict()

        loss = self.loss

        metric = self.metric

        within_tolerable_loss: bool | None | Unset
        if isinstance(self.within_tolerable_loss, Unset):
            within_tolerable_loss = UNSET
        else:
            within_tolerable_loss = self.within_tolerable_loss

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "evaluation": evaluation,
                "loss": loss,
                "metric": metric,
            }
        )
        if within_tolerable_loss is not UNSET:
            field_dict["within_tolerable_loss"] = within_tolerable_loss

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.text_quality_change import TextQualityChange

        d = dict(src_dict)
        evaluation = TextQualityChange.from_dict(d.pop("evaluation"))

        loss = d.pop("loss")

        metric = d.pop("metric")

        def _parse_within_tolerable_loss(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        within_tolerable_loss = _parse_within_tolerable_loss(
            d.pop("within_tolerable_loss", UNSET)
        )

        text_quality_fields = cls(
            evaluation=evaluation,
            loss=loss,
            metric=metric,
            within_tolerable_loss=within_tolerable_loss,
        )

        text_quality_fields.additional_properties = d
        return text_quality_fields

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
