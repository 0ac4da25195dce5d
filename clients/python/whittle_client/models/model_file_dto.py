from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="ModelFileDto")


@_attrs_define
class ModelFileDto:
    """One file of a model.

    Attributes:
        bytes_ (int):
        path (str): Relative path in the folder (`model.safetensors` for a single-file model).
        role (str): `shard`, `index`, `config` or `side`.
        sha256 (str):
    """

    bytes_: int
    path: str
    role: str
    sha256: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        bytes_ = self.bytes_

        path = self.path

        role = self.role

        sha256 = self.sha256

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "bytes": bytes_,
                "path": path,
                "role": role,
                "sha256": sha256,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        bytes_ = d.pop("bytes")

        path = d.pop("path")

        role = d.pop("role")

        sha256 = d.pop("sha256")

        model_file_dto = cls(
            bytes_=bytes_,
            path=path,
            role=role,
            sha256=sha256,
        )

        model_file_dto.additional_properties = d
        return model_file_dto

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
