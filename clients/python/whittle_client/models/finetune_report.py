from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="FinetuneReport")


@_attrs_define
class FinetuneReport:
    """What fine-tuning after pruning did.

    Attributes:
        epochs_run (int):
        train_loss (list[float]):
        final_train_loss (float | None | Unset):
        resumed_from_epoch (int | None | Unset): The epoch this attempt continued from (a checkpoint of an earlier
            attempt).
    """

    epochs_run: int
    train_loss: list[float]
    final_train_loss: float | None | Unset = UNSET
    resumed_from_epoch: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        epochs_run = self.epochs_run

        train_loss = self.train_loss

        final_train_loss: float | None | Unset
        if isinstance(self.final_train_loss, Unset):
            final_train_loss = UNSET
        else:
            final_train_loss = self.final_train_loss

        resumed_from_epoch: int | None | Unset
        if isinstance(self.resumed_from_epoch, Unset):
            resumed_from_epoch = UNSET
        else:
            resumed_from_epoch = self.resumed_from_epoch

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "epochs_run": epochs_run,
                "train_loss": train_loss,
            }
        )
        if final_train_loss is not UNSET:
            field_dict["final_train_loss"] = final_train_loss
        if resumed_from_epoch is not UNSET:
            field_dict["resumed_from_epoch"] = resumed_from_epoch

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        epochs_run = d.pop("epochs_run")

        train_loss = cast(list[float], d.pop("train_loss"))

        def _parse_final_train_loss(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        final_train_loss = _parse_final_train_loss(d.pop("final_train_loss", UNSET))

        def _parse_resumed_from_epoch(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        resumed_from_epoch = _parse_resumed_from_epoch(
            d.pop("resumed_from_epoch", UNSET)
        )

        finetune_report = cls(
            epochs_run=epochs_run,
            train_loss=train_loss,
            final_train_loss=final_train_loss,
            resumed_from_epoch=resumed_from_epoch,
        )

        finetune_report.additional_properties = d
        return finetune_report

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
