from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.event_payload_type_8_type import EventPayloadType8Type

if TYPE_CHECKING:
    from ..models.ended_data import EndedData


T = TypeVar("T", bound="EventPayloadType8")


@_attrs_define
class EventPayloadType8:
    """
    Attributes:
        data (EndedData): `job.failed` / `job.canceled`: the job ended without a result.
        type_ (EventPayloadType8Type):
    """

    data: EndedData
    type_: EventPayloadType8Type
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = self.data.to_dict()

        type_ = self.type_.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "data": data,
                "type": type_,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.ended_data import EndedData

        d = dict(src_dict)
        data = EndedData.from_dict(d.pop("data"))

        type_ = EventPayloadType8Type(d.pop("type"))

        event_payload_type_8 = cls(
            data=data,
            type_=type_,
        )

        event_payload_type_8.additional_properties = d
        return event_payload_type_8

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
