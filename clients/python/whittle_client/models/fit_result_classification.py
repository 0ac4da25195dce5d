from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.loss_type_0 import LossType0
from ..models.loss_type_1 import LossType1
from ..models.loss_type_2 import LossType2
from ..models.loss_type_3 import LossType3
from ..models.task_kind import TaskKind
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.loss_type_4 import LossType4


T = TypeVar("T", bound="FitResultClassification")


@_attrs_define
class FitResultClassification:
    """The result of a fit (the `train` job's result, a study's `refit`).

    Attributes:
        train_accuracy (float):
        epochs_run (int):
        final_train_loss (float):
        layer_sizes (list[int]):
        loss (LossType0 | LossType1 | LossType2 | LossType3 | LossType4): The objective minimized by training.
        n_params (int):
        restored_best (bool):
        samples_per_second (float):
        standardized_inputs (bool):
        stopped_early (bool):
        task (TaskKind): `classification` or `regression`.
        train_rows (int):
        train_seconds (float): Seconds this attempt trained (a resumed attempt counts its own epochs only).
        final_val_accuracy (float | None | Unset):
        best_epoch (int | None | Unset):
        final_val_loss (float | None | Unset):
        resumed_from_epoch (int | None | Unset): The epoch this attempt continued from, when a checkpoint of an earlier
            attempt (a
            crash, a lost lease, a shutdown hand-back) let it skip the epochs before.
        validation_rows (int | None | Unset):
    """

    train_accuracy: float
    epochs_run: int
    final_train_loss: float
    layer_sizes: list[int]
    loss: LossType0 | LossType1 | LossType2 | LossType3 | LossType4
    n_params: int
    restored_best: bool
    samples_per_second: float
    standardized_inputs: bool
    stopped_early: bool
    task: TaskKind
    train_rows: int
    train_seconds: float
    final_val_accuracy: float | None | Unset = UNSET
    best_epoch: int | None | Unset = UNSET
    final_val_loss: float | None | Unset = UNSET
    resumed_from_epoch: int | None | Unset = UNSET
    validation_rows: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        train_accuracy = self.train_accuracy

        epochs_run = self.epochs_run

        final_train_loss = self.final_train_loss

        layer_sizes = self.layer_sizes

        loss: dict[str, Any] | str
        if (
            isinstance(self.loss, LossType0)
            or isinstance(self.loss, LossType1)
            or isinstance(self.loss, LossType2)
            or isinstance(self.loss, LossType3)
        ):
            loss = self.loss.value
        else:
            loss = self.loss.to_dict()

        n_params = self.n_params

        restored_best = self.restored_best

        samples_per_second = self.samples_per_second

        standardized_inputs = self.standardized_inputs

        stopped_early = self.stopped_early

        task = self.task.value

        train_rows = self.train_rows

        train_seconds = self.train_seconds

        final_val_accuracy: float | None | Unset
        if isinstance(self.final_val_accuracy, Unset):
            final_val_accuracy = UNSET
        else:
            final_val_accuracy = self.final_val_accuracy

        best_epoch: int | None | Unset
        if isinstance(self.best_epoch, Unset):
            best_epoch = UNSET
        else:
            best_epoch = self.best_epoch

        final_val_loss: float | None | Unset
        if isinstance(self.final_val_loss, Unset):
            final_val_loss = UNSET
        else:
            final_val_loss = self.final_val_loss

        resumed_from_epoch: int | None | Unset
        if isinstance(self.resumed_from_epoch, Unset):
            resumed_from_epoch = UNSET
        else:
            resumed_from_epoch = self.resumed_from_epoch

        validation_rows: int | None | Unset
        if isinstance(self.validation_rows, Unset):
            validation_rows = UNSET
        else:
            validation_rows = self.validation_rows

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "train_accuracy": train_accuracy,
                "epochs_run": epochs_run,
                "final_train_loss": final_train_loss,
                "layer_sizes": layer_sizes,
                "loss": loss,
                "n_params": n_params,
                "restored_best": restored_best,
                "samples_per_second": samples_per_second,
                "standardized_inputs": standardized_inputs,
                "stopped_early": stopped_early,
                "task": task,
                "train_rows": train_rows,
                "train_seconds": train_seconds,
            }
        )
        if final_val_accuracy is not UNSET:
            field_dict["final_val_accuracy"] = final_val_accuracy
        if best_epoch is not UNSET:
            field_dict["best_epoch"] = best_epoch
        if final_val_loss is not UNSET:
            field_dict["final_val_loss"] = final_val_loss
        if resumed_from_epoch is not UNSET:
            field_dict["resumed_from_epoch"] = resumed_from_epoch
        if validation_rows is not UNSET:
            field_dict["validation_rows"] = validation_rows

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.loss_type_4 import LossType4

        d = dict(src_dict)
        train_accuracy = d.pop("train_accuracy")

        epochs_run = d.pop("epochs_run")

        final_train_loss = d.pop("final_train_loss")

        layer_sizes = cast(list[int], d.pop("layer_sizes"))

        def _parse_loss(
            data: object,
        ) -> LossType0 | LossType1 | LossType2 | LossType3 | LossType4:
            try:
                if not isinstance(data, str):
                    raise TypeError()
                componentsschemas_loss_type_0 = LossType0(data)

                return componentsschemas_loss_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, str):
                    raise TypeError()
                componentsschemas_loss_type_1 = LossType1(data)

                return componentsschemas_loss_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, str):
                    raise TypeError()
                componentsschemas_loss_type_2 = LossType2(data)

                return componentsschemas_loss_type_2
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, str):
                    raise TypeError()
                componentsschemas_loss_type_3 = LossType3(data)

                return componentsschemas_loss_type_3
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            componentsschemas_loss_type_4 = LossType4.from_dict(data)

            return componentsschemas_loss_type_4

        loss = _parse_loss(d.pop("loss"))

        n_params = d.pop("n_params")

        restored_best = d.pop("restored_best")

        samples_per_second = d.pop("samples_per_second")

        standardized_inputs = d.pop("standardized_inputs")

        stopped_early = d.pop("stopped_early")

        task = TaskKind(d.pop("task"))

        train_rows = d.pop("train_rows")

        train_seconds = d.pop("train_seconds")

        def _parse_final_val_accuracy(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        final_val_accuracy = _parse_final_val_accuracy(
            d.pop("final_val_accuracy", UNSET)
        )

        def _parse_best_epoch(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        best_epoch = _parse_best_epoch(d.pop("best_epoch", UNSET))

        def _parse_final_val_loss(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        final_val_loss = _parse_final_val_loss(d.pop("final_val_loss", UNSET))

        def _parse_resumed_from_epoch(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        resumed_from_epoch = _parse_resumed_from_epoch(
            d.pop("resumed_from_epoch", UNSET)
        )

        def _parse_validation_rows(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        validation_rows = _parse_validation_rows(d.pop("validation_rows", UNSET))

        fit_result_classification = cls(
            train_accuracy=train_accuracy,
            epochs_run=epochs_run,
            final_train_loss=final_train_loss,
            layer_sizes=layer_sizes,
            loss=loss,
            n_params=n_params,
            restored_best=restored_best,
            samples_per_second=samples_per_second,
            standardized_inputs=standardized_inputs,
            stopped_early=stopped_early,
            task=task,
            train_rows=train_rows,
            train_seconds=train_seconds,
            final_val_accuracy=final_val_accuracy,
            best_epoch=best_epoch,
            final_val_loss=final_val_loss,
            resumed_from_epoch=resumed_from_epoch,
            validation_rows=validation_rows,
        )

        fit_result_classification.additional_properties = d
        return fit_result_classification

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
