from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.job_event_succeeded_type import JobEventSucceededType
from ..models.job_state import JobState

if TYPE_CHECKING:
    from ..models.succeeded_data import SucceededData


T = TypeVar("T", bound="JobEventSucceeded")


@_attrs_define
class JobEventSucceeded:
    """One event of a job: the `data:` of a server-sent event (whose `event:` is `type`), and
    the `data` of a webhook delivery.

        Attributes:
            data (SucceededData): `job.succeeded`: the job's result is ready (`GET /v1/jobs/{id}`).
            type_ (JobEventSucceededType):
            at (datetime.datetime): When it happened.
            id (int): Position among all of the tenant's events (increasing, with gaps): the SSE `id` of
                `/v1/events`.
            job_id (UUID):
            kind (str): The job's kind.
            seq (int): Position among the job's events, 1, 2, 3… without gaps: the SSE `id` of
                `/v1/jobs/{id}/events`.
            state (JobState): Lifecycle of a job row. `queued → running → succeeded | failed | canceled`, and
                `running → queued` again when an attempt fails with retries left or its lease expires.
    """

    data: SucceededData
    type_: JobEventSucceededType
    at: datetime.datetime
    id: int
    job_id: UUID
    kind: str
    seq: int
    state: JobState
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = self.data.to_dict()

        type_ = self.type_.value

        at = self.at.isoformat()

        id = self.id

        job_id = str(self.job_id)

        kind = self.kind

        seq = self.seq

        state = self.state.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "data": data,
                "type": type_,
                "at": at,
                "id": id,
                "job_id": job_id,
                "kind": kind,
                "seq": seq,
                "state": state,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.succeeded_data import SucceededData

        d = dict(src_dict)
        data = SucceededData.from_dict(d.pop("data"))

        type_ = JobEventSucceededType(d.pop("type"))

        at = datetime.datetime.fromisoformat(d.pop("at"))

        id = d.pop("id")

        job_id = UUID(d.pop("job_id"))

        kind = d.pop("kind")

        seq = d.pop("seq")

        state = JobState(d.pop("state"))

        job_event_succeeded = cls(
            data=data,
            type_=type_,
            at=at,
            id=id,
            job_id=job_id,
            kind=kind,
            seq=seq,
            state=state,
        )

        job_event_succeeded.additional_properties = d
        return job_event_succeeded

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
