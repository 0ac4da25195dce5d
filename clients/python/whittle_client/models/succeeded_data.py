from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="SucceededData")


@_attrs_define
class SucceededData:
    """`job.succeeded`: the job's result is ready (`GET /v1/jobs/{id}`).

    Attributes:
        attempt (int):
        output_model_id (None | Unset | UUID): The model the job produced, if any.
    """

    attempt: int
    output_model_id: None | Unset | UUID = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        attempt = self.attempt

        output_model_id: None | str | Unset
        if isinstance(self.output_model_id, Unset):
            output_model_id = UNSET
        elif isinstance(self.output_model_id, UUID):
            output_model_id = str(self.output_model_id)
        else:
            output_model_id = self.output_model_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "attempt": attempt,
            }
        )
        if output_model_id is not UNSET:
            field_dict["output_model_id"] = output_model_id

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        attempt = d.pop("attempt")

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

        succeeded_data = cls(
            attempt=attempt,
            output_model_id=output_model_id,
        )

        succeeded_data.additional_properties = d
        return succeeded_data

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
