from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.metrics_type_1_task import MetricsType1Task

T = TypeVar("T", bound="MetricsType1")


@_attrs_define
class MetricsType1:
    """
    Attributes:
        mae (float):
        mse (float):
        r2 (float):
        rmse (float):
        task (MetricsType1Task):
    """

    mae: float
    mse: float
    r2: float
    rmse: float
    task: MetricsType1Task
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        mae = self.mae

        mse = self.mse

        r2 = self.r2

        rmse = self.rmse

        task = self.task.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "mae": mae,
                "mse": mse,
                "r2": r2,
                "rmse": rmse,
                "task": task,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        mae = d.pop("mae")

        mse = d.pop("mse")

        r2 = d.pop("r2")

        rmse = d.pop("rmse")

        task = MetricsType1Task(d.pop("task"))

        metrics_type_1 = cls(
            mae=mae,
            mse=mse,
            r2=r2,
            rmse=rmse,
            task=task,
        )

        metrics_type_1.additional_properties = d
        return metrics_type_1

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
