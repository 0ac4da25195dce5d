from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..models.granularity_spec import GranularitySpec
from ..types import UNSET, Unset

T = TypeVar("T", bound="SchemeSpec")


@_attrs_define
class SchemeSpec:
    """Bits, symmetry and granularity of the codes.

    Attributes:
        bits (int | Unset): Bits per code, 2..=8 (default 8).
        granularity (GranularitySpec | Unset): Which weights share one scale.
        group_size (int | None | Unset): Input columns per group when granularity is `group` (default 128).
        symmetric (bool | Unset): Symmetric codes (no zero point; default true).
    """

    bits: int | Unset = UNSET
    granularity: GranularitySpec | Unset = UNSET
    group_size: int | None | Unset = UNSET
    symmetric: bool | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        bits = self.bits

        granularity: str | Unset = UNSET
        if not isinstance(self.granularity, Unset):
            granularity = self.granularity.value

        group_size: int | None | Unset
        if isinstance(self.group_size, Unset):
            group_size = UNSET
        else:
            group_size = self.group_size

        symmetric = self.symmetric

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if bits is not UNSET:
            field_dict["bits"] = bits
        if granularity is not UNSET:
            field_dict["granularity"] = granularity
        if group_size is not UNSET:
            field_dict["group_size"] = group_size
        if symmetric is not UNSET:
            field_dict["symmetric"] = symmetric

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        bits = d.pop("bits", UNSET)

        _granularity = d.pop("granularity", UNSET)
        granularity: GranularitySpec | Unset
        if isinstance(_granularity, Unset):
            granularity = UNSET
        else:
            granularity = GranularitySpec(_granularity)

        def _parse_group_size(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        group_size = _parse_group_size(d.pop("group_size", UNSET))

        symmetric = d.pop("symmetric", UNSET)

        scheme_spec = cls(
            bits=bits,
            granularity=granularity,
            group_size=group_size,
            symmetric=symmetric,
        )

        return scheme_spec
