from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="DatasetDto")


@_attrs_define
class DatasetDto:
    """A dataset and its shape.

    Attributes:
        bytes_ (int):
        created_at (datetime.datetime):
        feature_names (list[str]): Tabular: the feature columns. Text: the text field, then `text_pair` when present.
        features (int): Numeric feature columns (0 for text datasets).
        format_ (str): `csv`, `npy` or `jsonl`.
        id (UUID):
        modality (str): `tabular` (numeric feature columns) or `text` (a text column, optionally a second
            text and labels, tokenized by jobs with the model's own tokenizer).
        name (str):
        rows (int):
        sha256 (str):
        target (str): The target (label) column; empty for a text dataset without labels.
        task (str): `classification`, `regression`, or `none` (text without labels).
        classes (list[str] | None | Unset): Class labels in index order (classification only).
    """

    bytes_: int
    created_at: datetime.datetime
    feature_names: list[str]
    features: int
    format_: str
    id: UUID
    modality: str
    name: str
    rows: int
    sha256: str
    target: str
    task: str
    classes: list[str] | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        bytes_ = self.bytes_

        created_at = self.created_at.isoformat()

        feature_names = self.feature_names

        features = self.features

        format_ = self.format_

        id = str(self.id)

        modality = self.modality

        name = self.name

        rows = self.rows

        sha256 = self.sha256

        target = self.target

        task = self.task

        classes: list[str] | None | Unset
        if isinstance(self.classes, Unset):
            classes = UNSET
        elif isinstance(self.classes, list):
            classes = self.classes

        else:
            classes = self.classes

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "bytes": bytes_,
                "created_at": created_at,
                "feature_names": feature_names,
                "features": features,
                "format": format_,
                "id": id,
                "modality": modality,
                "name": name,
                "rows": rows,
                "sha256": sha256,
                "target": target,
                "task": task,
            }
        )
        if classes is not UNSET:
            field_dict["classes"] = classes

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        bytes_ = d.pop("bytes")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        feature_names = cast(list[str], d.pop("feature_names"))

        features = d.pop("features")

        format_ = d.pop("format")

        id = UUID(d.pop("id"))

        modality = d.pop("modality")

        name = d.pop("name")

        rows = d.pop("rows")

        sha256 = d.pop("sha256")

        target = d.pop("target")

        task = d.pop("task")

        def _parse_classes(data: object) -> list[str] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                classes_type_0 = cast(list[str], data)

                return classes_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None | Unset, data)

        classes = _parse_classes(d.pop("classes", UNSET))

        dataset_dto = cls(
            bytes_=bytes_,
            created_at=created_at,
            feature_names=feature_names,
            features=features,
            format_=format_,
            id=id,
            modality=modality,
            name=name,
            rows=rows,
            sha256=sha256,
            target=target,
            task=task,
            classes=classes,
        )

        dataset_dto.additional_properties = d
        return dataset_dto

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
