from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="SchemeReport")


@_attrs_define
class SchemeReport:
    """A quantization scheme as reported.

    Attributes:
        bits (int):
        granularity (str):
        scale_dtype (str):
        symmetric (bool):
        group_size (int | None | Unset):
    """

    bits: int
    granularity: str
    scale_dtype: str
    symmetric: bool
    group_size: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        bits = self.bits

        granularity = self.granularity

        scale_dtype = self.scale_dtype

        symmetric = self.symmetric

        group_size: int | None | Unset
        if isinstance(self.group_size, Unset):
            group_size = UNSET
        else:
            group_size = self.group_size

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "bits": bits,
                "granularity": granularity,
                "scale_dtype": scale_dtype,
                "symmetric": symmetric,
            }
        )
        if group_size is not UNSET:
            field_dict["group_size"] = group_size

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        bits = d.pop("bits")

        granularity = d.pop("granularity")

        scale_dtype = d.pop("scale_dtype")

        symmetric = d.pop("symmetric")

        def _parse_group_size(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        group_size = _parse_group_size(d.pop("group_size", UNSET))

        scheme_report = cls(
            bits=bits,
            granularity=granularity,
            scale_dtype=scale_dtype,
            symmetric=symmetric,
            group_size=group_size,
        )

        scheme_report.additional_properties = d
        return scheme_report

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
