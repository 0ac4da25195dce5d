from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="CalibrationReport")


@_attrs_define
class CalibrationReport:
    """What calibration ran on, as reported in results.

    Attributes:
        blocks (int): Blocks run one after another.
        dataset_id (UUID):
        examples (int): Examples (rows of the dataset) used.
        max_length (int):
        seconds (float):
        sequences (int): Sequences run (decoders split long texts into `max_length` chunks).
        skipped_examples (int): Examples of fewer than 2 tokens (decoders), left out.
        tokens (int): Tokens whose activations were collected.
        truncated_examples (int): Examples cut to `max_length` (encoders).
        peak_rss_bytes (int | None | Unset): Peak resident memory of the worker process after the pass.
    """

    blocks: int
    dataset_id: UUID
    examples: int
    max_length: int
    seconds: float
    sequences: int
    skipped_examples: int
    tokens: int
    truncated_examples: int
    peak_rss_bytes: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        blocks = self.blocks

        dataset_id = str(self.dataset_id)

        examples = self.examples

        max_length = self.max_length

        seconds = self.seconds

        sequences = self.sequences

        skipped_examples = self.skipped_examples

        tokens = self.tokens

        truncated_examples = self.truncated_examples

        peak_rss_bytes: int | None | Unset
        if isinstance(self.peak_rss_bytes, Unset):
            peak_rss_bytes = UNSET
        else:
            peak_rss_bytes = self.peak_rss_bytes

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "blocks": blocks,
                "dataset_id": dataset_id,
                "examples": examples,
                "max_length": max_length,
                "seconds": seconds,
                "sequences": sequences,
                "skipped_examples": skipped_examples,
                "tokens": tokens,
                "truncated_examples": truncated_examples,
            }
        )
        if peak_rss_bytes is not UNSET:
            field_dict["peak_rss_bytes"] = peak_rss_bytes

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        blocks = d.pop("blocks")

        dataset_id = UUID(d.pop("dataset_id"))

        examples = d.pop("examples")

        max_length = d.pop("max_length")

        seconds = d.pop("seconds")

        sequences = d.pop("sequences")

        skipped_examples = d.pop("skipped_examples")

        tokens = d.pop("tokens")

        truncated_examples = d.pop("truncated_examples")

        def _parse_peak_rss_bytes(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        peak_rss_bytes = _parse_peak_rss_bytes(d.pop("peak_rss_bytes", UNSET))

        calibration_report = cls(
            blocks=blocks,
            dataset_id=dataset_id,
            examples=examples,
            max_length=max_length,
            seconds=seconds,
            sequences=sequences,
            skipped_examples=skipped_examples,
            tokens=tokens,
            truncated_examples=truncated_examples,
            peak_rss_bytes=peak_rss_bytes,
        )

        calibration_report.additional_properties = d
        return calibration_report

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
