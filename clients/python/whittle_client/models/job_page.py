from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.analyze_job import AnalyzeJob
    from ..models.evaluate_job import EvaluateJob
    from ..models.prune_job import PruneJob
    from ..models.quantize_job import QuantizeJob
    from ..models.train_job import TrainJob
    from ..models.trial_job import TrialJob
    from ..models.tune_job import TuneJob


T = TypeVar("T", bound="JobPage")


@_attrs_define
class JobPage:
    """A page of jobs, newest first.

    Attributes:
        items (list[AnalyzeJob | EvaluateJob | PruneJob | QuantizeJob | TrainJob | TrialJob | TuneJob]):
        next_cursor (None | Unset | UUID):
    """

    items: list[
        AnalyzeJob
        | EvaluateJob
        | PruneJob
        | QuantizeJob
        | TrainJob
        | TrialJob
        | TuneJob
    ]
    next_cursor: None | Unset | UUID = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.analyze_job import AnalyzeJob
        from ..models.evaluate_job import EvaluateJob
        from ..models.prune_job import PruneJob
        from ..models.quantize_job import QuantizeJob
        from ..models.train_job import TrainJob
        from ..models.tune_job import TuneJob

        items = []
        for items_item_data in self.items:
            items_item: dict[str, Any]
            if (
                isinstance(items_item_data, AnalyzeJob)
                or isinstance(items_item_data, TrainJob)
                or isinstance(items_item_data, EvaluateJob)
                or isinstance(items_item_data, QuantizeJob)
                or isinstance(items_item_data, PruneJob)
                or isinstance(items_item_data, TuneJob)
            ):
                items_item = items_item_data.to_dict()
            else:
                items_item = items_item_data.to_dict()

            items.append(items_item)

        next_cursor: None | str | Unset
        if isinstance(self.next_cursor, Unset):
            next_cursor = UNSET
        elif isinstance(self.next_cursor, UUID):
            next_cursor = str(self.next_cursor)
        else:
            next_cursor = self.next_cursor

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "items": items,
            }
        )
        if next_cursor is not UNSET:
            field_dict["next_cursor"] = next_cursor

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.analyze_job import AnalyzeJob
        from ..models.evaluate_job import EvaluateJob
        from ..models.prune_job import PruneJob
        from ..models.quantize_job import QuantizeJob
        from ..models.train_job import TrainJob
        from ..models.trial_job import TrialJob
        from ..models.tune_job import TuneJob

        d = dict(src_dict)
        items = []
        _items = d.pop("items")
        for items_item_data in _items:

            def _parse_items_item(
                data: object,
            ) -> (
                AnalyzeJob
                | EvaluateJob
                | PruneJob
                | QuantizeJob
                | TrainJob
                | TrialJob
                | TuneJob
            ):
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_job_dto_type_0 = AnalyzeJob.from_dict(data)

                    return componentsschemas_job_dto_type_0
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_job_dto_type_1 = TrainJob.from_dict(data)

                    return componentsschemas_job_dto_type_1
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_job_dto_type_2 = EvaluateJob.from_dict(data)

                    return componentsschemas_job_dto_type_2
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_job_dto_type_3 = QuantizeJob.from_dict(data)

                    return componentsschemas_job_dto_type_3
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_job_dto_type_4 = PruneJob.from_dict(data)

                    return componentsschemas_job_dto_type_4
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_job_dto_type_5 = TuneJob.from_dict(data)

                    return componentsschemas_job_dto_type_5
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_job_dto_type_6 = TrialJob.from_dict(data)

                return componentsschemas_job_dto_type_6

            items_item = _parse_items_item(items_item_data)

            items.append(items_item)

        def _parse_next_cursor(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                next_cursor_type_0 = UUID(data)

                return next_cursor_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        next_cursor = _parse_next_cursor(d.pop("next_cursor", UNSET))

        job_page = cls(
            items=items,
            next_cursor=next_cursor,
        )

        job_page.additional_properties = d
        return job_page

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
