from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="RunStats")


@_attrs_define
class RunStats:
    """Work done by one run.

    Attributes:
        examples (int): Examples run.
        seconds (float):
        skipped_examples (int): Examples skipped because they tokenize to fewer than 2 tokens (decoders).
        tokens (int): Tokens run through the model (decoders: scored tokens).
        tokens_per_second (float):
        truncated_examples (int): Examples cut to `max_length` (encoders).
    """

    examples: int
    seconds: float
    skipped_examples: int
    tokens: int
    tokens_per_second: float
    truncated_examples: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        examples = self.examples

        seconds = self.seconds

        skipped_examples = self.skipped_examples

        tokens = self.tokens

        tokens_per_second = self.tokens_per_second

        truncated_examples = self.truncated_examples

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "examples": examples,
                "seconds": seconds,
                "skipped_examples": skipped_examples,
                "tokens": tokens,
                "tokens_per_second": tokens_per_second,
                "truncated_examples": truncated_examples,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        examples = d.pop("examples")

        seconds = d.pop("seconds")

        skipped_examples = d.pop("skipped_examples")

        tokens = d.pop("tokens")

        tokens_per_second = d.pop("tokens_per_second")

        truncated_examples = d.pop("truncated_examples")

        run_stats = cls(
            examples=examples,
            seconds=seconds,
            skipped_examples=skipped_examples,
            tokens=tokens,
            tokens_per_second=tokens_per_second,
            truncated_examples=truncated_examples,
        )

        run_stats.additional_properties = d
        return run_stats

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
