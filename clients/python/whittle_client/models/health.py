from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="Health")


@_attrs_define
class Health:
    """Health of the process.

    Attributes:
        status (str): `ok`
        artifacts_checked_at (datetime.datetime | None | Unset): When the artifact store last took a probe write (readyz
            only; RFC 3339).
        database (None | str | Unset): `sqlite` or `postgres` (readyz only).
    """

    status: str
    artifacts_checked_at: datetime.datetime | None | Unset = UNSET
    database: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        status = self.status

        artifacts_checked_at: None | str | Unset
        if isinstance(self.artifacts_checked_at, Unset):
            artifacts_checked_at = UNSET
        elif isinstance(self.artifacts_checked_at, datetime.datetime):
            artifacts_checked_at = self.artifacts_checked_at.isoformat()
        else:
            artifacts_checked_at = self.artifacts_checked_at

        database: None | str | Unset
        if isinstance(self.database, Unset):
            database = UNSET
        else:
            database = self.database

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "status": status,
            }
        )
        if artifacts_checked_at is not UNSET:
            field_dict["artifacts_checked_at"] = artifacts_checked_at
        if database is not UNSET:
            field_dict["database"] = database

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        status = d.pop("status")

        def _parse_artifacts_checked_at(
            data: object,
        ) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                artifacts_checked_at_type_0 = datetime.datetime.fromisoformat(data)

                return artifacts_checked_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        artifacts_checked_at = _parse_artifacts_checked_at(
            d.pop("artifacts_checked_at", UNSET)
        )

        def _parse_database(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        database = _parse_database(d.pop("database", UNSET))

        health = cls(
            status=status,
            artifacts_checked_at=artifacts_checked_at,
            database=database,
        )

        health.additional_properties = d
        return health

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
