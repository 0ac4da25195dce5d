from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.evaluate_result_regression_task import EvaluateResultRegressionTask
from ..types import UNSET, Unset

T = TypeVar("T", bound="EvaluateResultRegression")


@_attrs_define
class EvaluateResultRegression:
    """The result of an `evaluate` job.

    Attributes:
        mae (float):
        mse (float):
        r2 (float):
        rmse (float):
        task (EvaluateResultRegressionTask):
        latency_batch1_us (float): Mean single-row latency in microseconds.
        rows (int): Rows evaluated.
        throughput_rows_per_s (float): Rows per second in batches (best of a few passes).
        dataset_id (UUID):
        model_id (UUID):
        classes (list[str] | None | Unset): Class labels in output order (classification).
    """

    mae: float
    mse: float
    r2: float
    rmse: float
    task: EvaluateResultRegressionTask
    latency_batch1_us: float
    rows: int
    throughput_rows_per_s: float
    dataset_id: UUID
    model_id: UUID
    classes: list[str] | None | Unset = UNSET
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

        dataset_id = str(self.dataset_id)

        model_id = str(self.model_id)

        classes: list[str] | None | Unset
        if isinstance(self.classes, Unset):
            classes = UNSET
        elif isinstance(self.classes, list):
            classes = self.classes

        else:
            classes = self.classes

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
                "dataset_id": dataset_id,
                "model_id": model_id,
            }
        )
        if classes is not UNSET:
            field_dict["classes"] = classes

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        mae = d.pop("mae")

        mse = d.pop("mse")

        r2 = d.pop("r2")

        rmse = d.pop("rmse")

        task = EvaluateResultRegressionTask(d.pop("task"))

        latency_batch1_us = d.pop("latency_batch1_us")

        rows = d.pop("rows")

        throughput_rows_per_s = d.pop("throughput_rows_per_s")

        dataset_id = UUID(d.pop("dataset_id"))

        model_id = UUID(d.pop("model_id"))

        def _parse_classes(data: object) -> list[str] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                classes_type_0 = cast(list[str], data)

                return classes_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None | Unset, data)

        classes = _parse_classes(d.pop("classes", UNSET))

        evaluate_result_regression = cls(
            mae=mae,
            mse=mse,
            r2=r2,
            rmse=rmse,
            task=task,
            latency_batch1_us=latency_batch1_us,
            rows=rows,
            throughput_rows_per_s=throughput_rows_per_s,
            dataset_id=dataset_id,
            model_id=model_id,
            classes=classes,
        )

        evaluate_result_regression.additional_properties = d
        return evaluate_result_regression

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
