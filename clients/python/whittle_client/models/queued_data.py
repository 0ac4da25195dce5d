from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="QueuedData")


@_attrs_define
class QueuedData:
    """`job.queued`: the job was submitted, or handed back to the queue untouched by a worker
    that shut down (`reason`).

        Attributes:
            attempt (int): Attempts started so far.
            max_attempts (int):
            priority (int):
            reason (str): `submitted` or `released`.
            scheduled_at (datetime.datetime): Not run before this instant.
            parent_job_id (None | Unset | UUID):
    """

    attempt: int
    max_attempts: int
    priority: int
    reason: str
    scheduled_at: datetime.datetime
    parent_job_id: None | Unset | UUID = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        attempt = self.attempt

        max_attempts = self.max_attempts

        priority = self.priority

        reason = self.reason

        scheduled_at = self.scheduled_at.isoformat()

        parent_job_id: None | str | Unset
        if isinstance(self.parent_job_id, Unset):
            parent_job_id = UNSET
        elif isinstance(self.parent_job_id, UUID):
            parent_job_id = str(self.parent_job_id)
        else:
            parent_job_id = self.parent_job_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "attempt": attempt,
                "max_attempts": max_attempts,
                "priority": priority,
                "reason": reason,
                "scheduled_at": scheduled_at,
            }
        )
        if parent_job_id is not UNSET:
            field_dict["parent_job_id"] = parent_job_id

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        attempt = d.pop("attempt")

        max_attempts = d.pop("max_attempts")

        priority = d.pop("priority")

        reason = d.pop("reason")

        scheduled_at = datetime.datetime.fromisoformat(d.pop("scheduled_at"))

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

        queued_data = cls(
            attempt=attempt,
            max_attempts=max_attempts,
            priority=priority,
            reason=reason,
            scheduled_at=scheduled_at,
            parent_job_id=parent_job_id,
        )

        queued_data.additional_properties = d
        return queued_data

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
