from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.scheme_report import SchemeReport


T = TypeVar("T", bound="Attempt")


@_attrs_define
class Attempt:
    """One scheme tried under `tolerable_loss`.

    Attributes:
        passed (bool):
        scheme (SchemeReport): A quantization scheme as reported.
        after (float | None | Unset):
        bits_per_weight (float | None | Unset):
        loss (float | None | Unset):
        metric (None | str | Unset):
    """

    passed: bool
    scheme: SchemeReport
    after: float | None | Unset = UNSET
    bits_per_weight: float | None | Unset = UNSET
    loss: float | None | Unset = UNSET
    metric: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        passed = self.passed

        scheme = self.scheme.to_dict()

        after: float | None | Unset
        if isinstance(self.after, Unset):
            after = UNSET
        else:
            after = self.after

        bits_per_weight: float | None | Unset
        if isinstance(self.bits_per_weight, Unset):
            bits_per_weight = UNSET
        else:
            bits_per_weight = self.bits_per_weight

        loss: float | None | Unset
        if isinstance(self.loss, Unset):
            loss = UNSET
        else:
            loss = self.loss

        metric: None | str | Unset
        if isinstance(self.metric, Unset):
            metric = UNSET
        else:
            metric = self.metric

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "passed": passed,
                "scheme": scheme,
            }
        )
        if after is not UNSET:
            field_dict["after"] = after
        if bits_per_weight is not UNSET:
            field_dict["bits_per_weight"] = bits_per_weight
        if loss is not UNSET:
            field_dict["loss"] = loss
        if metric is not UNSET:
            field_dict["metric"] = metric

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.scheme_report import SchemeReport

        d = dict(src_dict)
        passed = d.pop("passed")

        scheme = SchemeReport.from_dict(d.pop("scheme"))

        def _parse_after(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        after = _parse_after(d.pop("after", UNSET))

        def _parse_bits_per_weight(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        bits_per_weight = _parse_bits_per_weight(d.pop("bits_per_weight", UNSET))

        def _parse_loss(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        loss = _parse_loss(d.pop("loss", UNSET))

        def _parse_metric(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        metric = _parse_metric(d.pop("metric", UNSET))

        attempt = cls(
            passed=passed,
            scheme=scheme,
            after=after,
            bits_per_weight=bits_per_weight,
            loss=loss,
            metric=metric,
        )

        attempt.additional_properties = d
        return attempt

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
