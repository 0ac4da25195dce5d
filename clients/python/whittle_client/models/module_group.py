from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.tensor_role import TensorRole
from ..types import UNSET, Unset

T = TypeVar("T", bound="ModuleGroup")


@_attrs_define
class ModuleGroup:
    """The tensors of one role.

    Attributes:
        inf_count (int):
        keep_float (bool): Whether to leave the group in float, and why.
        n_elements (int):
        nan_count (int):
        role (TensorRole): What a tensor of a Hugging Face checkpoint is, from its name (the naming of BERT,
            RoBERTa, Llama, Mistral, Qwen2, GPT-2 and similar families).
        tensors (int):
        abs_max (float | None | Unset): Largest |value| over the group's tensors.
        max_outlier_ratio (float | None | Unset): Largest `abs_max / std` of a tensor in the group: how far its outliers
            reach (the
            larger, the more a per-tensor or per-channel scale wastes levels).
        reason (None | str | Unset):
    """

    inf_count: int
    keep_float: bool
    n_elements: int
    nan_count: int
    role: TensorRole
    tensors: int
    abs_max: float | None | Unset = UNSET
    max_outlier_ratio: float | None | Unset = UNSET
    reason: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        inf_count = self.inf_count

        keep_float = self.keep_float

        n_elements = self.n_elements

        nan_count = self.nan_count

        role = self.role.value

        tensors = self.tensors

        abs_max: float | None | Unset
        if isinstance(self.abs_max, Unset):
            abs_max = UNSET
        else:
            abs_max = self.abs_max

        max_outlier_ratio: float | None | Unset
        if isinstance(self.max_outlier_ratio, Unset):
            max_outlier_ratio = UNSET
        else:
            max_outlier_ratio = self.max_outlier_ratio

        reason: None | str | Unset
        if isinstance(self.reason, Unset):
            reason = UNSET
        else:
            reason = self.reason

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "inf_count": inf_count,
                "keep_float": keep_float,
                "n_elements": n_elements,
                "nan_count": nan_count,
                "role": role,
                "tensors": tensors,
            }
        )
        if abs_max is not UNSET:
            field_dict["abs_max"] = abs_max
        if max_outlier_ratio is not UNSET:
            field_dict["max_outlier_ratio"] = max_outlier_ratio
        if reason is not UNSET:
            field_dict["reason"] = reason

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        inf_count = d.pop("inf_count")

        keep_float = d.pop("keep_float")

        n_elements = d.pop("n_elements")

        nan_count = d.pop("nan_count")

        role = TensorRole(d.pop("role"))

        tensors = d.pop("tensors")

        def _parse_abs_max(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        abs_max = _parse_abs_max(d.pop("abs_max", UNSET))

        def _parse_max_outlier_ratio(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        max_outlier_ratio = _parse_max_outlier_ratio(d.pop("max_outlier_ratio", UNSET))

        def _parse_reason(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        reason = _parse_reason(d.pop("reason", UNSET))

        module_group = cls(
            inf_count=inf_count,
            keep_float=keep_float,
            n_elements=n_elements,
            nan_count=nan_count,
            role=role,
            tensors=tensors,
            abs_max=abs_max,
            max_outlier_ratio=max_outlier_ratio,
            reason=reason,
        )

        module_group.additional_properties = d
        return module_group

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
