from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="EmbeddingFidelity")


@_attrs_define
class EmbeddingFidelity:
    """How far a candidate's sentence embeddings are from a reference's on the same texts.

    Attributes:
        mean_cosine (float):
        min_cosine (float):
        neighbour_agreement (float | None | Unset): Fraction of texts whose nearest neighbour is the same in both (None
            for < 3 texts).
        spearman (float | None | Unset): Spearman ρ between the two models' pairwise similarities (None for < 3 texts).
    """

    mean_cosine: float
    min_cosine: float
    neighbour_agreement: float | None | Unset = UNSET
    spearman: float | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        mean_cosine = self.mean_cosine

        min_cosine = self.min_cosine

        neighbour_agreement: float | None | Unset
        if isinstance(self.neighbour_agreement, Unset):
            neighbour_agreement = UNSET
        else:
            neighbour_agreement = self.neighbour_agreement

        spearman: float | None | Unset
        if isinstance(self.spearman, Unset):
            spearman = UNSET
        else:
            spearman = self.spearman

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "mean_cosine": mean_cosine,
                "min_cosine": min_cosine,
            }
        )
        if neighbour_agreement is not UNSET:
            field_dict["neighbour_agreement"] = neighbour_agreement
        if spearman is not UNSET:
            field_dict["spearman"] = spearman

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        mean_cosine = d.pop("mean_cosine")

        min_cosine = d.pop("min_cosine")

        def _parse_neighbour_agreement(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        neighbour_agreement = _parse_neighbour_agreement(
            d.pop("neighbour_agreement", UNSET)
        )

        def _parse_spearman(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        spearman = _parse_spearman(d.pop("spearman", UNSET))

        embedding_fidelity = cls(
            mean_cosine=mean_cosine,
            min_cosine=min_cosine,
            neighbour_agreement=neighbour_agreement,
            spearman=spearman,
        )

        embedding_fidelity.additional_properties = d
        return embedding_fidelity

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
