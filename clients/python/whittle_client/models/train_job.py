from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.job_state import JobState
from ..models.train_job_kind import TrainJobKind
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.attempt_error import AttemptError
    from ..models.fit_result_classification import FitResultClassification
    from ..models.fit_result_regression import FitResultRegression
    from ..models.train_spec import TrainSpec


T = TypeVar("T", bound="TrainJob")


@_attrs_define
class TrainJob:
    """A `train` job.

    Attributes:
        attempt (int): Attempts started so far.
        cancel_requested (bool):
        created_at (datetime.datetime):
        errors (list[AttemptError]): Every failed attempt, oldest first.
        id (UUID):
        kind (TrainJobKind):
        max_attempts (int):
        priority (int):
        progress (float): 0..=1
        scheduled_at (datetime.datetime): Not run before this instant (retries are scheduled with backoff).
        spec (TrainSpec): Spec of a `train` job.
        state (JobState): Lifecycle of a job row. `queued → running → succeeded | failed | canceled`, and
            `running → queued` again when an attempt fails with retries left or its lease expires.
        error (None | str | Unset): The last attempt's error message, if any.
        finished_at (datetime.datetime | None | Unset):
        output_model_id (None | Unset | UUID): The model this job produced (train, quantize, prune, tune).
        parent_job_id (None | Unset | UUID):
        progress_message (None | str | Unset):
        result (FitResultClassification | FitResultRegression | None | Unset): The kind's result once succeeded.
        started_at (datetime.datetime | None | Unset):
    """

    attempt: int
    cancel_requested: bool
    created_at: datetime.datetime
    errors: list[AttemptError]
    id: UUID
    kind: TrainJobKind
    max_attempts: int
    priority: int
    progress: float
    scheduled_at: datetime.datetime
    spec: TrainSpec
    state: JobState
    error: None | str | Unset = UNSET
    finished_at: datetime.datetime | None | Unset = UNSET
    output_model_id: None | Unset | UUID = UNSET
    parent_job_id: None | Unset | UUID = UNSET
    progress_message: None | str | Unset = UNSET
    result: FitResultClassification | FitResultRegression | None | Unset = UNSET
    started_at: datetime.datetime | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.fit_result_classification import FitResultClassification
        from ..models.fit_result_regression import FitResultRegression

        attempt = self.attempt

        cancel_requested = self.cancel_requested

        created_at = self.created_at.isoformat()

        errors = []
        for errors_item_data in self.errors:
            errors_item = errors_item_data.to_dict()
            errors.append(errors_item)

        id = str(self.id)

        kind = self.kind.value

        max_attempts = self.max_attempts

        priority = self.priority

        progress = self.progress

        scheduled_at = self.scheduled_at.isoformat()

        spec = self.spec.to_dict()

        state = self.state.value

        error: None | str | Unset
        if isinstance(self.error, Unset):
            error = UNSET
        else:
            error = self.error

        finished_at: None | str | Unset
        if isinstance(self.finished_at, Unset):
            finished_at = UNSET
        elif isinstance(self.finished_at, datetime.datetime):
            finished_at = self.finished_at.isoformat()
        else:
            finished_at = self.finished_at

        output_model_id: None | str | Unset
        if isinstance(self.output_model_id, Unset):
            output_model_id = UNSET
        elif isinstance(self.output_model_id, UUID):
            output_model_id = str(self.output_model_id)
        else:
            output_model_id = self.output_model_id

        parent_job_id: None | str | Unset
        if isinstance(self.parent_job_id, Unset):
            parent_job_id = UNSET
        elif isinstance(self.parent_job_id, UUID):
            parent_job_id = str(self.parent_job_id)
        else:
            parent_job_id = self.parent_job_id

        progress_message: None | str | Unset
        if isinstance(self.progress_message, Unset):
            progress_message = UNSET
        else:
            progress_message = self.progress_message

        result: dict[str, Any] | None | Unset
        if isinstance(self.result, Unset):
            result = UNSET
        elif isinstance(self.result, FitResultClassification) or isinstance(
            self.result, FitResultRegression
        ):
            result = self.result.to_dict()
        else:
            result = self.result

        started_at: None | str | Unset
        if isinstance(self.started_at, Unset):
            started_at = UNSET
        elif isinstance(self.started_at, datetime.datetime):
            started_at = self.started_at.isoformat()
        else:
            started_at = self.started_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "attempt": attempt,
                "cancel_requested": cancel_requested,
                "created_at": created_at,
                "errors": errors,
                "id": id,
                "kind": kind,
                "max_attempts": max_attempts,
                "priority": priority,
                "progress": progress,
                "scheduled_at": scheduled_at,
                "spec": spec,
                "state": state,
            }
        )
        if error is not UNSET:
            field_dict["error"] = error
        if finished_at is not UNSET:
            field_dict["finished_at"] = finished_at
        if output_model_id is not UNSET:
            field_dict["output_model_id"] = output_model_id
        if parent_job_id is not UNSET:
            field_dict["parent_job_id"] = parent_job_id
        if progress_message is not UNSET:
            field_dict["progress_message"] = progress_message
        if result is not UNSET:
            field_dict["result"] = result
        if started_at is not UNSET:
            field_dict["started_at"] = started_at

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.attempt_error import AttemptError
        from ..models.fit_result_classification import FitResultClassification
        from ..models.fit_result_regression import FitResultRegression
        from ..models.train_spec import TrainSpec

        d = dict(src_dict)
        attempt = d.pop("attempt")

        cancel_requested = d.pop("cancel_requested")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        errors = []
        _errors = d.pop("errors")
        for errors_item_data in _errors:
            errors_item = AttemptError.from_dict(errors_item_data)

            errors.append(errors_item)

        id = UUID(d.pop("id"))

        kind = TrainJobKind(d.pop("kind"))

        max_attempts = d.pop("max_attempts")

        priority = d.pop("priority")

        progress = d.pop("progress")

        scheduled_at = datetime.datetime.fromisoformat(d.pop("scheduled_at"))

        spec = TrainSpec.from_dict(d.pop("spec"))

        state = JobState(d.pop("state"))

        def _parse_error(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        error = _parse_error(d.pop("error", UNSET))

        def _parse_finished_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                finished_at_type_0 = datetime.datetime.fromisoformat(data)

                return finished_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        finished_at = _parse_finished_at(d.pop("finished_at", UNSET))

        def _parse_output_model_id(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                output_model_id_type_0 = UUID(data)

                return output_model_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        output_model_id = _parse_output_model_id(d.pop("output_model_id", UNSET))

        def _parse_parent_job_id(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                parent_job_id_type_0 = UUID(data)

                return parent_job_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        parent_job_id = _parse_parent_job_id(d.pop("parent_job_id", UNSET))

        def _parse_progress_message(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        progress_message = _parse_progress_message(d.pop("progress_message", UNSET))

        def _parse_result(
            data: object,
        ) -> FitResultClassification | FitResultRegression | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                result_type_0 = FitResultClassification.from_dict(data)

                return result_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                result_type_1 = FitResultRegression.from_dict(data)

                return result_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(
                FitResultClassification | FitResultRegression | None | Unset, data
            )

        result = _parse_result(d.pop("result", UNSET))

        def _parse_started_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                started_at_type_0 = datetime.datetime.fromisoformat(data)

                return started_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        started_at = _parse_started_at(d.pop("started_at", UNSET))

        train_job = cls(
            attempt=attempt,
            cancel_requested=cancel_requested,
            created_at=created_at,
            errors=errors,
            id=id,
            kind=kind,
            max_attempts=max_attempts,
            priority=priority,
            progress=progress,
            scheduled_at=scheduled_at,
            spec=spec,
            state=state,
            error=error,
            finished_at=finished_at,
            output_model_id=output_model_id,
            parent_job_id=parent_job_id,
            progress_message=progress_message,
            result=result,
            started_at=started_at,
        )

        train_job.additional_properties = d
        return train_job

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
