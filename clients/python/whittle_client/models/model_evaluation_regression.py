from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.model_evaluation_regression_task import ModelEvaluationRegressionTask

T = TypeVar("T", bound="ModelEvaluationRegression")


@_attrs_define
class ModelEvaluationRegression:
    """The metrics of a model on a dataset (the `evaluate` result and the before/after reports
    of quantize and prune).

        Attributes:
            mae (float):
            mse (float):
            r2 (float):
            rmse (float):
            task (ModelEvaluationRegressionTask):
            latency_batch1_us (float): Mean single-row latency in microseconds.
            rows (int): Rows evaluated.
            throughput_rows_per_s (float): Rows per second in batches (best of a few passes).
    """

    mae: float
    mse: float
    r2: float
    rmse: float
    task: ModelEvaluationRegressionTask
    latency_batch1_us: float
    rows: int
    throughput_rows_per_s: float
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        mae = self.mae

        mse = self.mse

        r2 = self.r2

        rmse = self.rmse

        task = self.task.value

        latency_batch1_us = self.latency_batch1_us

        rows = self.rows

        throughput_rows_per_s = self.throughput_rows_per_s

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "mae": mae,
                "mse": mse,
                "r2": r2,
                "rmse": rmse,
                "task": task,
                "latency_batch1_us": latency_batch1_us,
                "rows": rows,
                "throughput_rows_per_s": throughput_rows_per_s,
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

        task = ModelEvaluationRegressionTask(d.pop("task"))

        latency_batch1_us = d.pop("latency_batch1_us")

        rows = d.pop("rows")

        throughput_rows_per_s = d.pop("throughput_rows_per_s")

        model_evaluation_regression = cls(
            mae=mae,
            mse=mse,
            r2=r2,
            rmse=rmse,
            task=task,
            latency_batch1_us=latency_batch1_us,
            rows=rows,
            throughput_rows_per_s=throughput_rows_per_s,
        )

        model_evaluation_regression.additional_properties = d
        return model_evaluation_regression

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
