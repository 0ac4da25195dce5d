from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar
from uuid import UUID

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="PruneFinetuneSpec")


@_attrs_define
class PruneFinetuneSpec:
    """Masked fine-tuning after pruning (pruned weights stay zero).

    Attributes:
        dataset_id (UUID): Training data with the model's features.
        batch_size (int | Unset): Rows per mini-batch (default 64).
        epochs (int | Unset): Passes over the data (default 5).
        lr (float | Unset): Adam learning rate (default 0.001).
        seed (int | Unset): Seeds shuffling.
    """

    dataset_id: UUID
    batch_size: int | Unset = UNSET
    epochs: int | Unset = UNSET
    lr: float | Unset = UNSET
    seed: int | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        dataset_id = str(self.dataset_id)

        batch_size = self.batch_size

        epochs = self.epochs

        lr = self.lr

        seed = self.seed

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "dataset_id": dataset_id,
            }
        )
        if batch_size is not UNSET:
            field_dict["batch_size"] = batch_size
        if epochs is not UNSET:
            field_dict["epochs"] = epochs
        if lr is not UNSET:
            field_dict["lr"] = lr
        if seed is not UNSET:
            field_dict["seed"] = seed

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        dataset_id = UUID(d.pop("dataset_id"))

        batch_size = d.pop("batch_size", UNSET)

        epochs = d.pop("epochs", UNSET)

        lr = d.pop("lr", UNSET)

        seed = d.pop("seed", UNSET)

        prune_finetune_spec = cls(
            dataset_id=dataset_id,
            batch_size=batch_size,
            epochs=epochs,
            lr=lr,
            seed=seed,
        )

        return prune_finetune_spec
