from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="QatReport")


@_attrs_define
class QatReport:
    """What quantization-aware fine-tuning did.

    Attributes:
        epochs_run (int):
        final_train_loss (float):
        resumed_from_epoch (int | None | Unset): The epoch this attempt continued from (a checkpoint of an earlier
            attempt).
    """

    epochs_run: int
    final_train_loss: float
    resumed_from_epoch: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        epochs_run = self.epochs_run

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
                "final_train_loss": final_train_loss,
            }
        )
        if resumed_from_epoch is not UNSET:
            field_dict["resumed_from_epoch"] = resumed_from_epoch

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        epochs_run = d.pop("epochs_run")

        final_train_loss = d.pop("final_train_loss")

        def _parse_resumed_from_epoch(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        resumed_from_epoch = _parse_resumed_from_epoch(
            d.pop("resumed_from_epoch", UNSET)
        )

        qat_report = cls(
            epochs_run=epochs_run,
            final_train_loss=final_train_loss,
            resumed_from_epoch=resumed_from_epoch,
        )

        qat_report.additional_properties = d
        return qat_report

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
