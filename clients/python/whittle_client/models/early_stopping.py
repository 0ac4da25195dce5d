from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..models.monitor import Monitor
from ..types import UNSET, Unset

T = TypeVar("T", bound="EarlyStopping")


@_attrs_define
class EarlyStopping:
    """Stop when the monitored value has not improved by `min_delta` for `patience` epochs.

    Attributes:
        patience (int): Epochs without improvement before stopping (≥ 1).
        min_delta (float | Unset): Minimum change that counts as an improvement.
        monitor (Monitor | Unset): What early stopping watches.
        restore_best (bool | Unset): Put back the weights of the best epoch at the end.
    """

    patience: int
    min_delta: float | Unset = UNSET
    monitor: Monitor | Unset = UNSET
    restore_best: bool | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        patience = self.patience

        min_delta = self.min_delta

        monitor: str | Unset = UNSET
        if not isinstance(self.monitor, Unset):
            monitor = self.monitor.value

        restore_best = self.restore_best

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "patience": patience,
            }
        )
        if min_delta is not UNSET:
            field_dict["min_delta"] = min_delta
        if monitor is not UNSET:
            field_dict["monitor"] = monitor
        if restore_best is not UNSET:
            field_dict["restore_best"] = restore_best

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        patience = d.pop("patience")

        min_delta = d.pop("min_delta", UNSET)

        _monitor = d.pop("monitor", UNSET)
        monitor: Monitor | Unset
        if isinstance(_monitor, Unset):
            monitor = UNSET
        else:
            monitor = Monitor(_monitor)

        restore_best = d.pop("restore_best", UNSET)

        early_stopping = cls(
            patience=patience,
            min_delta=min_delta,
            monitor=monitor,
            restore_best=restore_best,
        )

        return early_stopping
