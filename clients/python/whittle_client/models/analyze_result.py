from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.model_totals import ModelTotals
    from ..models.module_group import ModuleGroup
    from ..models.recommendation import Recommendation
    from ..models.tensor_analysis import TensorAnalysis


T = TypeVar("T", bound="AnalyzeResult")


@_attrs_define
class AnalyzeResult:
    """The result of an `analyze` job.

    Attributes:
        histograms_omitted (int): Float tensors whose histogram was left out to keep the result small (the largest
            tensors keep theirs; see `note` on each tensor).
        integer_elements (int): Elements of integer tensors (no statistics).
        model_id (UUID):
        n_tensors (int):
        tensors (list[TensorAnalysis]):
        totals (ModelTotals): Per-model totals combined from [`TensorStats`] (no percentiles or histogram: those do not
            combine exactly).
        modules (list[ModuleGroup] | Unset): Transformer checkpoints: the analyzed tensors grouped by what they are
            (attention
            q/k/v/o, MLP gate/up/down, embeddings, norms, lm_head, task heads).
        recommendation (None | Recommendation | Unset):
    """

    histograms_omitted: int
    integer_elements: int
    model_id: UUID
    n_tensors: int
    tensors: list[TensorAnalysis]
    totals: ModelTotals
    modules: list[ModuleGroup] | Unset = UNSET
    recommendation: None | Recommendation | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.recommendation import Recommendation

        histograms_omitted = self.histograms_omitted

        integer_elements = self.integer_elements

        model_id = str(self.model_id)

        n_tensors = self.n_tensors

        tensors = []
        for tensors_item_data in self.tensors:
            tensors_item = tensors_item_data.to_dict()
            tensors.append(tensors_item)

        totals = self.totals.to_dict()

        modules: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.modules, Unset):
            modules = []
            for modules_item_data in self.modules:
                modules_item = modules_item_data.to_dict()
                modules.append(modules_item)

        recommendation: dict[str, Any] | None | Unset
        if isinstance(self.recommendation, Unset):
            recommendation = UNSET
        elif isinstance(self.recommendation, Recommendation):
            recommendation = self.recommendation.to_dict()
        else:
            recommendation = self.recommendation

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "histograms_omitted": histograms_omitted,
                "integer_elements": integer_elements,
                "model_id": model_id,
                "n_tensors": n_tensors,
                "tensors": tensors,
                "totals": totals,
            }
        )
        if modules is not UNSET:
            field_dict["modules"] = modules
        if recommendation is not UNSET:
            field_dict["recommendation"] = recommendation

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.model_totals import ModelTotals
        from ..models.module_group import ModuleGroup
        from ..models.recommendation import Recommendation
        from ..models.tensor_analysis import TensorAnalysis

        d = dict(src_dict)
        histograms_omitted = d.pop("histograms_omitted")

        integer_elements = d.pop("integer_elements")

        model_id = UUID(d.pop("model_id"))

        n_tensors = d.pop("n_tensors")

        tensors = []
        _tensors = d.pop("tensors")
        for tensors_item_data in _tensors:
            tensors_item = TensorAnalysis.from_dict(tensors_item_data)

            tensors.append(tensors_item)

        totals = ModelTotals.from_dict(d.pop("totals"))

        _modules = d.pop("modules", UNSET)
        modules: list[ModuleGroup] | Unset = UNSET
        if _modules is not UNSET:
            modules = []
            for modules_item_data in _modules:
                modules_item = ModuleGroup.from_dict(modules_item_data)

                modules.append(modules_item)

        def _parse_recommendation(data: object) -> None | Recommendation | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                recommendation_type_1 = Recommendation.from_dict(data)

                return recommendation_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Recommendation | Unset, data)

        recommendation = _parse_recommendation(d.pop("recommendation", UNSET))

        analyze_result = cls(
            histograms_omitted=histograms_omitted,
            integer_elements=integer_elements,
            model_id=model_id,
            n_tensors=n_tensors,
            tensors=tensors,
            totals=totals,
            modules=modules,
            recommendation=recommendation,
        )

        analyze_result.additional_properties = d
        return analyze_result

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
