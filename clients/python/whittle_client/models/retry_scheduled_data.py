from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="RetryScheduledData")


@_attrs_define
class RetryScheduledData:
    """`job.retry_scheduled`: an attempt failed (or its worker vanished) and the job will run
    again at `retry_at`.

        Attributes:
            attempt (int): The attempt that failed.
            max_attempts (int):
            retry_at (datetime.datetime):
            error (None | str | Unset):
    """

    attempt: int
    max_attempts: int
    retry_at: datetime.datetime
    error: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        attempt = self.attempt

        max_attempts = self.max_attempts

        retry_at = self.retry_at.isoformat()

        error: None | str | Unset
        if isinstance(self.error, Unset):
            error = UNSET
        else:
            error = self.error

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "attempt": attempt,
                "max_attempts": max_attempts,
                "retry_at": retry_at,
            }
        )
        if error is not UNSET:
            field_dict["error"] = error

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        attempt = d.pop("attempt")

        max_attempts = d.pop("max_attempts")

        retry_at = datetime.datetime.fromisoformat(d.pop("retry_at"))

        def _parse_error(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        error = _parse_error(d.pop("error", UNSET))

        retry_scheduled_data = cls(
            attempt=attempt,
            max_attempts=max_attempts,
            retry_at=retry_at,
            error=error,
        )

        retry_scheduled_data.additional_properties = d
        return retry_scheduled_data

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
