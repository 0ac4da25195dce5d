from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..models.activation import Activation
from ..models.init import Init
from ..types import UNSET, Unset

T = TypeVar("T", bound="ArchitectureSpec")


@_attrs_define
class ArchitectureSpec:
    """Hidden layers of a new MLP (inputs and outputs come from the dataset).

    Attributes:
        hidden (list[int]): Widths of the hidden layers, e.g. `[256, 256]`.
        activation (Activation | Unset): The non-linearity applied after a dense layer.
        dropout (float | None | Unset): Dropout probability on hidden outputs during training.
        init (Init | None | Unset):
    """

    hidden: list[int]
    activation: Activation | Unset = UNSET
    dropout: float | None | Unset = UNSET
    init: Init | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        hidden = self.hidden

        activation: str | Unset = UNSET
        if not isinstance(self.activation, Unset):
            activation = self.activation.value

        dropout: float | None | Unset
        if isinstance(self.dropout, Unset):
            dropout = UNSET
        else:
            dropout = self.dropout

        init: None | str | Unset
        if isinstance(self.init, Unset):
            init = UNSET
        elif isinstance(self.init, Init):
            init = self.init.value
        else:
            init = self.init

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "hidden": hidden,
            }
        )
        if activation is not UNSET:
            field_dict["activation"] = activation
        if dropout is not UNSET:
            field_dict["dropout"] = dropout
        if init is not UNSET:
            field_dict["init"] = init

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        hidden = cast(list[int], d.pop("hidden"))

        _activation = d.pop("activation", UNSET)
        activation: Activation | Unset
        if isinstance(_activation, Unset):
            activation = UNSET
        else:
            activation = Activation(_activation)

        def _parse_dropout(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        dropout = _parse_dropout(d.pop("dropout", UNSET))

        def _parse_init(data: object) -> Init | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                init_type_1 = Init(data)

                return init_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(Init | None | Unset, data)

        init = _parse_init(d.pop("init", UNSET))

        architecture_spec = cls(
            hidden=hidden,
            activation=activation,
            dropout=dropout,
            init=init,
        )

        return architecture_spec
