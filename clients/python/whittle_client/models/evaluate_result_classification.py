from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.evaluate_result_classification_task import (
    EvaluateResultClassificationTask,
)
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.class_metrics import ClassMetrics


T = TypeVar("T", bound="EvaluateResultClassification")


@_attrs_define
class EvaluateResultClassification:
    """The result of an `evaluate` job.

    Attributes:
        accuracy (float):
        confusion_matrix (list[list[int]]): `confusion_matrix[true][predicted]` counts.
        f1_macro (float):
        f1_weighted (float):
        per_class (list[ClassMetrics]):
        precision_macro (float):
        predictions (int): Number of predictions made.
        recall_macro (float):
        task (EvaluateResultClassificationTask):
        latency_batch1_us (float): Mean single-row latency in microseconds.
        rows (int): Rows evaluated.
        throughput_rows_per_s (float): Rows per second in batches (best of a few passes).
        dataset_id (UUID):
        model_id (UUID):
        log_loss (float | None | Unset):
        classes (list[str] | None | Unset): Class labels in output order (classification).
    """

    accuracy: float
    confusion_matrix: list[list[int]]
    f1_macro: float
    f1_weighted: float
    per_class: list[ClassMetrics]
    precision_macro: float
    predictions: int
    recall_macro: float
    task: EvaluateResultClassificationTask
    latency_batch1_us: float
    rows: int
    throughput_rows_per_s: float
    dataset_id: UUID
    model_id: UUID
    log_loss: float | None | Unset = UNSET
    classes: list[str] | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        accuracy = self.accuracy

        confusion_matrix = []
        for confusion_matrix_item_data in self.confusion_matrix:
            confusion_matrix_item = confusion_matrix_item_data

            confusion_matrix.append(confusion_matrix_item)

        f1_macro = self.f1_macro

        f1_weighted = self.f1_weighted

        per_class = []
        for per_class_item_data in self.per_class:
            per_class_item = per_class_item_data.to_dict()
            per_class.append(per_class_item)

        precision_macro = self.precision_macro

        predictions = self.predictions

        recall_macro = self.recall_macro

        task = self.task.value

        latency_batch1_us = self.latency_batch1_us

        rows = self.rows

        throughput_rows_per_s = self.throughput_rows_per_s

        dataset_id = str(self.dataset_id)

        model_id = str(self.model_id)

        log_loss: float | None | Unset
        if isinstance(self.log_loss, Unset):
            log_loss = UNSET
        else:
            log_loss = self.log_loss

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
                "accuracy": accuracy,
                "confusion_matrix": confusion_matrix,
                "f1_macro": f1_macro,
                "f1_weighted": f1_weighted,
                "per_class": per_class,
                "precision_macro": precision_macro,
                "predictions": predictions,
                "recall_macro": recall_macro,
                "task": task,
                "latency_batch1_us": latency_batch1_us,
                "rows": rows,
                "throughput_rows_per_s": throughput_rows_per_s,
                "dataset_id": dataset_id,
                "model_id": model_id,
            }
        )
        if log_loss is not UNSET:
            field_dict["log_loss"] = log_loss
        if classes is not UNSET:
            field_dict["classes"] = classes

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.class_metrics import ClassMetrics

        d = dict(src_dict)
        accuracy = d.pop("accuracy")

        confusion_matrix = []
        _confusion_matrix = d.pop("confusion_matrix")
        for confusion_matrix_item_data in _confusion_matrix:
            confusion_matrix_item = cast(list[int], confusion_matrix_item_data)

            confusion_matrix.append(confusion_matrix_item)

        f1_macro = d.pop("f1_macro")

        f1_weighted = d.pop("f1_weighted")

        per_class = []
        _per_class = d.pop("per_class")
        for per_class_item_data in _per_class:
            per_class_item = ClassMetrics.from_dict(per_class_item_data)

            per_class.append(per_class_item)

        precision_macro = d.pop("precision_macro")

        predictions = d.pop("predictions")

        recall_macro = d.pop("recall_macro")

        task = EvaluateResultClassificationTask(d.pop("task"))

        latency_batch1_us = d.pop("latency_batch1_us")

        rows = d.pop("rows")

        throughput_rows_per_s = d.pop("throughput_rows_per_s")

        dataset_id = UUID(d.pop("dataset_id"))

        model_id = UUID(d.pop("model_id"))

        def _parse_log_loss(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        log_loss = _parse_log_loss(d.pop("log_loss", UNSET))

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

        evaluate_result_classification = cls(
            accuracy=accuracy,
            confusion_matrix=confusion_matrix,
            f1_macro=f1_macro,
            f1_weighted=f1_weighted,
            per_class=per_class,
            precision_macro=precision_macro,
            predictions=predictions,
            recall_macro=recall_macro,
            task=task,
            latency_batch1_us=latency_batch1_us,
            rows=rows,
            throughput_rows_per_s=throughput_rows_per_s,
            dataset_id=dataset_id,
            model_id=model_id,
            log_loss=log_loss,
            classes=classes,
        )

        evaluate_result_classification.additional_properties = d
        return evaluate_result_classification

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
