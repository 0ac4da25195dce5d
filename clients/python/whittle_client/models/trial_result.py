from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.trial_result_params import TrialResultParams


T = TypeVar("T", bound="TrialResult")


@_attrs_define
class TrialResult:
    """The result of a `trial` job.

    Attributes:
        epochs_per_fold (int):
        fold_values (list[float]):
        number (int):
        params (TrialResultParams):
        seconds (float):
        state (str):
        study_job_id (UUID):
        value (float): Mean of the fold values.
        worker_id (None | str | Unset):
    """

    epochs_per_fold: int
    fold_values: list[float]
    number: int
    params: TrialResultParams
    seconds: float
    state: str
    study_job_id: UUID
    value: float
    worker_id: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        epochs_per_fold = self.epochs_per_fold

        fold_values = self.fold_values

        number = self.number

        params = self.params.to_dict()

        seconds = self.seconds

        state = self.state

        study_job_id = str(self.study_job_id)

        value = self.value

        worker_id: None | str | Unset
        if isinstance(self.worker_id, Unset):
            worker_id = UNSET
        else:
            worker_id = self.worker_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "epochs_per_fold": epochs_per_fold,
                "fold_values": fold_values,
                "number": number,
                "params": params,
                "seconds": seconds,
                "state": state,
                "study_job_id": study_job_id,
                "value": value,
            }
        )
        if worker_id is not UNSET:
            field_dict["worker_id"] = worker_id

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.trial_result_params import TrialResultParams

        d = dict(src_dict)
        epochs_per_fold = d.pop("epochs_per_fold")

        fold_values = cast(list[float], d.pop("fold_values"))

        number = d.pop("number")

        params = TrialResultParams.from_dict(d.pop("params"))

        seconds = d.pop("seconds")

        state = d.pop("state")

        study_job_id = UUID(d.pop("study_job_id"))

        value = d.pop("value")

        def _parse_worker_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        worker_id = _parse_worker_id(d.pop("worker_id", UNSET))

        trial_result = cls(
            epochs_per_fold=epochs_per_fold,
            fold_values=fold_values,
            number=number,
            params=params,
            seconds=seconds,
            state=state,
            study_job_id=study_job_id,
            value=value,
            worker_id=worker_id,
        )

        trial_result.additional_properties = d
        return trial_result

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
