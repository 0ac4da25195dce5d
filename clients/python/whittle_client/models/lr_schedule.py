from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.lr_decay_type_0 import LrDecayType0
    from ..models.lr_decay_type_1 import LrDecayType1
    from ..models.lr_decay_type_2 import LrDecayType2


T = TypeVar("T", bound="LrSchedule")


@_attrs_define
class LrSchedule:
    """Learning-rate schedule: optional linear warmup followed by a decay.

    Attributes:
        decay (LrDecayType0 | LrDecayType1 | LrDecayType2 | Unset): How the learning rate decays over training (after
            any warmup).
        warmup_epochs (int | Unset): Epochs of linear warmup from `lr/steps` to `lr` (0 = none).
    """

    decay: LrDecayType0 | LrDecayType1 | LrDecayType2 | Unset = UNSET
    warmup_epochs: int | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.lr_decay_type_0 import LrDecayType0
        from ..models.lr_decay_type_1 import LrDecayType1

        decay: dict[str, Any] | Unset
        if isinstance(self.decay, Unset):
            decay = UNSET
        elif isinstance(self.decay, LrDecayType0) or isinstance(
            self.decay, LrDecayType1
        ):
            decay = self.decay.to_dict()
        else:
            decay = self.decay.to_dict()

        warmup_epochs = self.warmup_epochs

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if decay is not UNSET:
            field_dict["decay"] = decay
        if warmup_epochs is not UNSET:
            field_dict["warmup_epochs"] = warmup_epochs

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.lr_decay_type_0 import LrDecayType0
        from ..models.lr_decay_type_1 import LrDecayType1
        from ..models.lr_decay_type_2 import LrDecayType2

        d = dict(src_dict)

        def _parse_decay(
            data: object,
        ) -> LrDecayType0 | LrDecayType1 | LrDecayType2 | Unset:
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_lr_decay_type_0 = LrDecayType0.from_dict(data)

                return componentsschemas_lr_decay_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_lr_decay_type_1 = LrDecayType1.from_dict(data)

                return componentsschemas_lr_decay_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            componentsschemas_lr_decay_type_2 = LrDecayType2.from_dict(data)

            return componentsschemas_lr_decay_type_2

        decay = _parse_decay(d.pop("decay", UNSET))

        warmup_epochs = d.pop("warmup_epochs", UNSET)

        lr_schedule = cls(
            decay=decay,
            warmup_epochs=warmup_epochs,
        )

        return lr_schedule
