from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.trial_data_params import TrialDataParams


T = TypeVar("T", bound="TrialData")


@_attrs_define
class TrialData:
    """`job.trial`: a trial of a study started, reported an intermediate value, or ended.

    Attributes:
        intermediate_steps (int): Intermediate values reported so far (one per epoch).
        number (int):
        params (TrialDataParams):
        state (str): `running`, `complete`, `pruned` or `failed`.
        last_intermediate (float | None | Unset): The latest intermediate value.
        value (float | None | Unset): The objective's value once complete (`null` when not finite).
    """

    intermediate_steps: int
    number: int
    params: TrialDataParams
    state: str
    last_intermediate: float | None | Unset = UNSET
    value: float | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        intermediate_steps = self.intermediate_steps

        number = self.number

        params = self.params.to_dict()

        state = self.state

        last_intermediate: float | None | Unset
        if isinstance(self.last_intermediate, Unset):
            last_intermediate = UNSET
        else:
            last_intermediate = self.last_intermediate

        value: float | None | Unset
        if isinstance(self.value, Unset):
            value = UNSET
        else:
            value = self.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "intermediate_steps": intermediate_steps,
                "number": number,
                "params": params,
                "state": state,
            }
        )
        if last_intermediate is not UNSET:
            field_dict["last_intermediate"] = last_intermediate
        if value is not UNSET:
            field_dict["value"] = value

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.trial_data_params import TrialDataParams

        d = dict(src_dict)
        intermediate_steps = d.pop("intermediate_steps")

        number = d.pop("number")

        params = TrialDataParams.from_dict(d.pop("params"))

        state = d.pop("state")

        def _parse_last_intermediate(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        last_intermediate = _parse_last_intermediate(d.pop("last_intermediate", UNSET))

        def _parse_value(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        value = _parse_value(d.pop("value", UNSET))

        trial_data = cls(
            intermediate_steps=intermediate_steps,
            number=number,
            params=params,
            state=state,
            last_intermediate=last_intermediate,
            value=value,
        )

        trial_data.additional_properties = d
        return trial_data

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
