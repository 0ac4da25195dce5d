from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.scope import Scope
from ..types import UNSET, Unset

T = TypeVar("T", bound="RuleFields")


@_attrs_define
class RuleFields:
    """The parameters of the rule that chose the weights.

    Attributes:
        cutoff_magnitude (float | None | Unset): The global magnitude cutoff (streamed global magnitude).
        pattern (None | str | Unset): `n:m` of an N:M pattern.
        scope (None | Scope | Unset):
        target_sparsity (float | None | Unset):
        threshold (float | None | Unset):
    """

    cutoff_magnitude: float | None | Unset = UNSET
    pattern: None | str | Unset = UNSET
    scope: None | Scope | Unset = UNSET
    target_sparsity: float | None | Unset = UNSET
    threshold: float | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        cutoff_magnitude: float | None | Unset
        if isinstance(self.cutoff_magnitude, Unset):
            cutoff_magnitude = UNSET
        else:
            cutoff_magnitude = self.cutoff_magnitude

        pattern: None | str | Unset
        if isinstance(self.pattern, Unset):
            pattern = UNSET
        else:
            pattern = self.pattern

        scope: None | str | Unset
        if isinstance(self.scope, Unset):
            scope = UNSET
        elif isinstance(self.scope, Scope):
            scope = self.scope.value
        else:
            scope = self.scope

        target_sparsity: float | None | Unset
        if isinstance(self.target_sparsity, Unset):
            target_sparsity = UNSET
        else:
            target_sparsity = self.target_sparsity

        threshold: float | None | Unset
        if isinstance(self.threshold, Unset):
            threshold = UNSET
        else:
            threshold = self.threshold

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if cutoff_magnitude is not UNSET:
            field_dict["cutoff_magnitude"] = cutoff_magnitude
        if pattern is not UNSET:
            field_dict["pattern"] = pattern
        if scope is not UNSET:
            field_dict["scope"] = scope
        if target_sparsity is not UNSET:
            field_dict["target_sparsity"] = target_sparsity
        if threshold is not UNSET:
            field_dict["threshold"] = threshold

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)

        def _parse_cutoff_magnitude(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        cutoff_magnitude = _parse_cutoff_magnitude(d.pop("cutoff_magnitude", UNSET))

        def _parse_pattern(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        pattern = _parse_pattern(d.pop("pattern", UNSET))

        def _parse_scope(data: object) -> None | Scope | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                scope_type_1 = Scope(data)

                return scope_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Scope | Unset, data)

        scope = _parse_scope(d.pop("scope", UNSET))

        def _parse_target_sparsity(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        target_sparsity = _parse_target_sparsity(d.pop("target_sparsity", UNSET))

        def _parse_threshold(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        threshold = _parse_threshold(d.pop("threshold", UNSET))

        rule_fields = cls(
            cutoff_magnitude=cutoff_magnitude,
            pattern=pattern,
            scope=scope,
            target_sparsity=target_sparsity,
            threshold=threshold,
        )

        rule_fields.additional_properties = d
        return rule_fields

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
