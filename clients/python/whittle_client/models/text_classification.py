from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="TextClassification")


@_attrs_define
class TextClassification:
    """Classifier quality on labelled text.

    Attributes:
        accuracy (float):
        confusion_matrix (list[list[int]]): `confusion_matrix[true][predicted]` over the dataset's classes.
        f1_macro (float):
        f1_weighted (float):
    """

    accuracy: float
    confusion_matrix: list[list[int]]
    f1_macro: float
    f1_weighted: float
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        accuracy = self.accuracy

        confusion_matrix = []
        for confusion_matrix_item_data in self.confusion_matrix:
            confusion_matrix_item = confusion_matrix_item_data

            confusion_matrix.append(confusion_matrix_item)

        f1_macro = self.f1_macro

        f1_weighted = self.f1_weighted

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "accuracy": accuracy,
                "confusion_matrix": confusion_matrix,
                "f1_macro": f1_macro,
                "f1_weighted": f1_weighted,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        accuracy = d.pop("accuracy")

        confusion_matrix = []
        _confusion_matrix = d.pop("confusion_matrix")
        for confusion_matrix_item_data in _confusion_matrix:
            confusion_matrix_item = cast(list[int], confusion_matrix_item_data)

            confusion_matrix.append(confusion_matrix_item)

        f1_macro = d.pop("f1_macro")

        f1_weighted = d.pop("f1_weighted")

        text_classification = cls(
            accuracy=accuracy,
            confusion_matrix=confusion_matrix,
            f1_macro=f1_macro,
            f1_weighted=f1_weighted,
        )

        text_classification.additional_properties = d
        return text_classification

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
