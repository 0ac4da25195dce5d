from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..models.output_dtype_spec import OutputDtypeSpec
from ..models.task_kind import TaskKind
from ..models.train_spec_loss_type_1 import TrainSpecLossType1
from ..models.train_spec_loss_type_2 import TrainSpecLossType2
from ..models.train_spec_loss_type_3 import TrainSpecLossType3
from ..models.train_spec_loss_type_4 import TrainSpecLossType4
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.architecture_spec import ArchitectureSpec
    from ..models.early_stopping import EarlyStopping
    from ..models.lr_schedule import LrSchedule
    from ..models.optimizer_config_type_0 import OptimizerConfigType0
    from ..models.optimizer_config_type_1 import OptimizerConfigType1
    from ..models.optimizer_config_type_2 import OptimizerConfigType2
    from ..models.optimizer_config_type_3 import OptimizerConfigType3
    from ..models.train_spec_loss_type_5 import TrainSpecLossType5
    from ..models.validation_spec import ValidationSpec


T = TypeVar("T", bound="TrainSpec")


@_attrs_define
class TrainSpec:
    """Spec of a `train` job.

    Attributes:
        dataset_id (UUID): Training data.
        architecture (ArchitectureSpec | None | Unset):
        base_model_id (None | Unset | UUID): Continue training (fine-tune) this model instead of a fresh one.
        batch_size (int | Unset):
        clip_grad_norm (float | None | Unset): Clip the global gradient norm to this.
        early_stopping (EarlyStopping | None | Unset):
        epochs (int | Unset):
        loss (None | TrainSpecLossType1 | TrainSpecLossType2 | TrainSpecLossType3 | TrainSpecLossType4 |
            TrainSpecLossType5 | Unset):
        lr_schedule (LrSchedule | Unset): Learning-rate schedule: optional linear warmup followed by a decay.
        optimizer (OptimizerConfigType0 | OptimizerConfigType1 | OptimizerConfigType2 | OptimizerConfigType3 | Unset):
            Optimizer choice and its hyper-parameters.
        output_dtype (None | OutputDtypeSpec | Unset):
        output_name (None | str | Unset): Name of the output model.
        seed (int | Unset): Seeds init, shuffling, dropout and the validation split.
        standardize (bool | Unset): Learn input mean/std from the training data and store them in the model, so raw
            features work at inference (default true; a base model's own statistics are kept).
        task (None | TaskKind | Unset):
        validation (None | Unset | ValidationSpec):
        weight_decay (float | Unset): L2 weight decay on weights (decoupled for adamw).
    """

    dataset_id: UUID
    architecture: ArchitectureSpec | None | Unset = UNSET
    base_model_id: None | Unset | UUID = UNSET
    batch_size: int | Unset = UNSET
    clip_grad_norm: float | None | Unset = UNSET
    early_stopping: EarlyStopping | None | Unset = UNSET
    epochs: int | Unset = UNSET
    loss: (
        None
        | TrainSpecLossType1
        | TrainSpecLossType2
        | TrainSpecLossType3
        | TrainSpecLossType4
        | TrainSpecLossType5
        | Unset
    ) = UNSET
    lr_schedule: LrSchedule | Unset = UNSET
    optimizer: (
        OptimizerConfigType0
        | OptimizerConfigType1
        | OptimizerConfigType2
        | OptimizerConfigType3
        | Unset
    ) = UNSET
    output_dtype: None | OutputDtypeSpec | Unset = UNSET
    output_name: None | str | Unset = UNSET
    seed: int | Unset = UNSET
    standardize: bool | Unset = UNSET
    task: None | TaskKind | Unset = UNSET
    validation: None | Unset | ValidationSpec = UNSET
    weight_decay: float | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.architecture_spec import ArchitectureSpec
        from ..models.early_stopping import EarlyStopping
        from ..models.optimizer_config_type_0 import OptimizerConfigType0
        from ..models.optimizer_config_type_1 import OptimizerConfigType1
        from ..models.optimizer_config_type_2 import OptimizerConfigType2
        from ..models.train_spec_loss_type_5 import TrainSpecLossType5
        from ..models.validation_spec import ValidationSpec

        dataset_id = str(self.dataset_id)

        architecture: dict[str, Any] | None | Unset
        if isinstance(self.architecture, Unset):
            architecture = UNSET
        elif isinstance(self.architecture, ArchitectureSpec):
            architecture = self.architecture.to_dict()
        else:
            architecture = self.architecture

        base_model_id: None | str | Unset
        if isinstance(self.base_model_id, Unset):
            base_model_id = UNSET
        elif isinstance(self.base_model_id, UUID):
            base_model_id = str(self.base_model_id)
        else:
            base_model_id = self.base_model_id

        batch_size = self.batch_size

        clip_grad_norm: float | None | Unset
        if isinstance(self.clip_grad_norm, Unset):
            clip_grad_norm = UNSET
        else:
            clip_grad_norm = self.clip_grad_norm

        early_stopping: dict[str, Any] | None | Unset
        if isinstance(self.early_stopping, Unset):
            early_stopping = UNSET
        elif isinstance(self.early_stopping, EarlyStopping):
            early_stopping = self.early_stopping.to_dict()
        else:
            early_stopping = self.early_stopping

        epochs = self.epochs

        loss: dict[str, Any] | None | str | Unset
        if isinstance(self.loss, Unset):
            loss = UNSET
        elif (
            isinstance(self.loss, TrainSpecLossType1)
            or isinstance(self.loss, TrainSpecLossType2)
            or isinstance(self.loss, TrainSpecLossType3)
            or isinstance(self.loss, TrainSpecLossType4)
        ):
            loss = self.loss.value
        elif isinstance(self.loss, TrainSpecLossType5):
            loss = self.loss.to_dict()
        else:
            loss = self.loss

        lr_schedule: dict[str, Any] | Unset = UNSET
        if not isinstance(self.lr_schedule, Unset):
            lr_schedule = self.lr_schedule.to_dict()

        optimizer: dict[str, Any] | Unset
        if isinstance(self.optimizer, Unset):
            optimizer = UNSET
        elif (
            isinstance(self.optimizer, OptimizerConfigType0)
            or isinstance(self.optimizer, OptimizerConfigType1)
            or isinstance(self.optimizer, OptimizerConfigType2)
        ):
            optimizer = self.optimizer.to_dict()
        else:
            optimizer = self.optimizer.to_dict()

        output_dtype: None | str | Unset
        if isinstance(self.output_dtype, Unset):
            output_dtype = UNSET
        elif isinstance(self.output_dtype, OutputDtypeSpec):
            output_dtype = self.output_dtype.value
        else:
            output_dtype = self.output_dtype

        output_name: None | str | Unset
        if isinstance(self.output_name, Unset):
            output_name = UNSET
        else:
            output_name = self.output_name

        seed = self.seed

        standardize = self.standardize

        task: None | str | Unset
        if isinstance(self.task, Unset):
            task = UNSET
        elif isinstance(self.task, TaskKind):
            task = self.task.value
        else:
            task = self.task

        validation: dict[str, Any] | None | Unset
        if isinstance(self.validation, Unset):
            validation = UNSET
        elif isinstance(self.validation, ValidationSpec):
            validation = self.validation.to_dict()
        else:
            validation = self.validation

        weight_decay = self.weight_decay

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "dataset_id": dataset_id,
            }
        )
        if architecture is not UNSET:
            field_dict["architecture"] = architecture
        if base_model_id is not UNSET:
            field_dict["base_model_id"] = base_model_id
        if batch_size is not UNSET:
            field_dict["batch_size"] = batch_size
        if clip_grad_norm is not UNSET:
            field_dict["clip_grad_norm"] = clip_grad_norm
        if early_stopping is not UNSET:
            field_dict["early_stopping"] = early_stopping
        if epochs is not UNSET:
            field_dict["epochs"] = epochs
        if loss is not UNSET:
            field_dict["loss"] = loss
        if lr_schedule is not UNSET:
            field_dict["lr_schedule"] = lr_schedule
        if optimizer is not UNSET:
            field_dict["optimizer"] = optimizer
        if output_dtype is not UNSET:
            field_dict["output_dtype"] = output_dtype
        if output_name is not UNSET:
            field_dict["output_name"] = output_name
        if seed is not UNSET:
            field_dict["seed"] = seed
        if standardize is not UNSET:
            field_dict["standardize"] = standardize
        if task is not UNSET:
            field_dict["task"] = task
        if validation is not UNSET:
            field_dict["validation"] = validation
        if weight_decay is not UNSET:
            field_dict["weight_decay"] = weight_decay

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.architecture_spec import ArchitectureSpec
        from ..models.early_stopping import EarlyStopping
        from ..models.lr_schedule import LrSchedule
        from ..models.optimizer_config_type_0 import OptimizerConfigType0
        from ..models.optimizer_config_type_1 import OptimizerConfigType1
        from ..models.optimizer_config_type_2 import OptimizerConfigType2
        from ..models.optimizer_config_type_3 import OptimizerConfigType3
        from ..models.train_spec_loss_type_5 import TrainSpecLossType5
        from ..models.validation_spec import ValidationSpec

        d = dict(src_dict)
        dataset_id = UUID(d.pop("dataset_id"))

        def _parse_architecture(data: object) -> ArchitectureSpec | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                architecture_type_1 = ArchitectureSpec.from_dict(data)

                return architecture_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ArchitectureSpec | None | Unset, data)

        architecture = _parse_architecture(d.pop("architecture", UNSET))

        def _parse_base_model_id(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                base_model_id_type_0 = UUID(data)

                return base_model_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        base_model_id = _parse_base_model_id(d.pop("base_model_id", UNSET))

        batch_size = d.pop("batch_size", UNSET)

        def _parse_clip_grad_norm(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        clip_grad_norm = _parse_clip_grad_norm(d.pop("clip_grad_norm", UNSET))

        def _parse_early_stopping(data: object) -> EarlyStopping | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                early_stopping_type_1 = EarlyStopping.from_dict(data)

                return early_stopping_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(EarlyStopping | None | Unset, data)

        early_stopping = _parse_early_stopping(d.pop("early_stopping", UNSET))

        epochs = d.pop("epochs", UNSET)

        def _parse_loss(
            data: object,
        ) -> (
            None
            | TrainSpecLossType1
            | TrainSpecLossType2
            | TrainSpecLossType3
            | TrainSpecLossType4
            | TrainSpecLossType5
            | Unset
        ):
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                loss_type_1 = TrainSpecLossType1(data)

                return loss_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, str):
                    raise TypeError()
                loss_type_2 = TrainSpecLossType2(data)

                return loss_type_2
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, str):
                    raise TypeError()
                loss_type_3 = TrainSpecLossType3(data)

                return loss_type_3
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, str):
                    raise TypeError()
                loss_type_4 = TrainSpecLossType4(data)

                return loss_type_4
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                loss_type_5 = TrainSpecLossType5.from_dict(data)

                return loss_type_5
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(
                None
                | TrainSpecLossType1
                | TrainSpecLossType2
                | TrainSpecLossType3
                | TrainSpecLossType4
                | TrainSpecLossType5
                | Unset,
                data,
            )

        loss = _parse_loss(d.pop("loss", UNSET))

        _lr_schedule = d.pop("lr_schedule", UNSET)
        lr_schedule: LrSchedule | Unset
        if isinstance(_lr_schedule, Unset):
            lr_schedule = UNSET
        else:
            lr_schedule = LrSchedule.from_dict(_lr_schedule)

        def _parse_optimizer(
            data: object,
        ) -> (
            OptimizerConfigType0
            | OptimizerConfigType1
            | OptimizerConfigType2
            | OptimizerConfigType3
            | Unset
        ):
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_optimizer_config_type_0 = (
                    OptimizerConfigType0.from_dict(data)
                )

                return componentsschemas_optimizer_config_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_optimizer_config_type_1 = (
                    OptimizerConfigType1.from_dict(data)
                )

                return componentsschemas_optimizer_config_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_optimizer_config_type_2 = (
                    OptimizerConfigType2.from_dict(data)
                )

                return componentsschemas_optimizer_config_type_2
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            componentsschemas_optimizer_config_type_3 = OptimizerConfigType3.from_dict(
                data
            )

            return componentsschemas_optimizer_config_type_3

        optimizer = _parse_optimizer(d.pop("optimizer", UNSET))

        def _parse_output_dtype(data: object) -> None | OutputDtypeSpec | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                output_dtype_type_1 = OutputDtypeSpec(data)

                return output_dtype_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | OutputDtypeSpec | Unset, data)

        output_dtype = _parse_output_dtype(d.pop("output_dtype", UNSET))

        def _parse_output_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        output_name = _parse_output_name(d.pop("output_name", UNSET))

        seed = d.pop("seed", UNSET)

        standardize = d.pop("standardize", UNSET)

        def _parse_task(data: object) -> None | TaskKind | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                task_type_1 = TaskKind(data)

                return task_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | TaskKind | Unset, data)

        task = _parse_task(d.pop("task", UNSET))

        def _parse_validation(data: object) -> None | Unset | ValidationSpec:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                validation_type_1 = ValidationSpec.from_dict(data)

                return validation_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | ValidationSpec, data)

        validation = _parse_validation(d.pop("validation", UNSET))

        weight_decay = d.pop("weight_decay", UNSET)

        train_spec = cls(
            dataset_id=dataset_id,
            architecture=architecture,
            base_model_id=base_model_id,
            batch_size=batch_size,
            clip_grad_norm=clip_grad_norm,
            early_stopping=early_stopping,
            epochs=epochs,
            loss=loss,
            lr_schedule=lr_schedule,
            optimizer=optimizer,
            output_dtype=output_dtype,
            output_name=output_name,
            seed=seed,
            standardize=standardize,
            task=task,
            validation=validation,
            weight_decay=weight_decay,
        )

        return train_spec
