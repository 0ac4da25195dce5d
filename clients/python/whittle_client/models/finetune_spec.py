from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar
from uuid import UUID

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="FinetuneSpec")


@_attrs_define
class FinetuneSpec:
    """Quantization-aware fine-tuning of an MLP before its weights are quantized: the forward
    pass sees fake-quantized weights, gradients update the float weights (straight-through).

        Attributes:
            dataset_id (UUID): Labelled training data with the model's features.
            batch_size (int | Unset): Rows per step (default 64).
            epochs (int | Unset): Passes over the data (default 3).
            lr (float | Unset): Adam learning rate (default 1e-4).
    """

    dataset_id: UUID
    batch_size: int | Unset = UNSET
    epochs: int | Unset = UNSET
    lr: float | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        dataset_id = str(self.dataset_id)

        batch_size = self.batch_size

        epochs = self.epochs

        lr = self.lr

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

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        dataset_id = UUID(d.pop("dataset_id"))

        batch_size = d.pop("batch_size", UNSET)

        epochs = d.pop("epochs", UNSET)

        lr = d.pop("lr", UNSET)

        finetune_spec = cls(
            dataset_id=dataset_id,
            batch_size=batch_size,
            epochs=epochs,
            lr=lr,
        )

        return finetune_spec
