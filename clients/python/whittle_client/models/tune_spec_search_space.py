from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.distribution_type_0 import DistributionType0
    from ..models.distribution_type_1 import DistributionType1
    from ..models.distribution_type_2 import DistributionType2


T = TypeVar("T", bound="TuneSpecSearchSpace")


@_attrs_define
class TuneSpecSearchSpace:
    """Parameter path → distribution: `{"type":"float","low","high","log"?,"step"?}`,
    `{"type":"int","low","high","log"?,"step"?}` or `{"type":"categorical","choices":[…]}`.
    Paths name train-spec fields (`optimizer.lr`, `batch_size`, `weight_decay` or
    `optimizer.weight_decay`, `architecture.hidden`, `architecture.hidden[*]` (every layer),
    `architecture.hidden[0]`, `architecture.activation`, `architecture.dropout`, …).

    """

    additional_properties: dict[
        str, DistributionType0 | DistributionType1 | DistributionType2
    ] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.distribution_type_0 import DistributionType0
        from ..models.distribution_type_1 import DistributionType1

        field_dict: dict[str, Any] = {}
        for prop_name, prop in self.additional_properties.items():
            if isinstance(prop, DistributionType0) or isinstance(
                prop, DistributionType1
            ):
                field_dict[prop_name] = prop.to_dict()
            else:
                field_dict[prop_name] = prop.to_dict()

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.distribution_type_0 import DistributionType0
        from ..models.distribution_type_1 import DistributionType1
        from ..models.distribution_type_2 import DistributionType2

        d = dict(src_dict)
        tune_spec_search_space = cls()

        additional_properties = {}
        for prop_name, prop_dict in d.items():

            def _parse_additional_property(
                data: object,
            ) -> DistributionType0 | DistributionType1 | DistributionType2:
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_distribution_type_0 = DistributionType0.from_dict(
                        data
                    )

                    return componentsschemas_distribution_type_0
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_distribution_type_1 = DistributionType1.from_dict(
                        data
                    )

                    return componentsschemas_distribution_type_1
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_distribution_type_2 = DistributionType2.from_dict(
                    data
                )

                return componentsschemas_distribution_type_2

            additional_property = _parse_additional_property(prop_dict)

            additional_properties[prop_name] = additional_property

        tune_spec_search_space.additional_properties = additional_properties
        return tune_spec_search_space

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(
        self, key: str
    ) -> DistributionType0 | DistributionType1 | DistributionType2:
        return self.additional_properties[key]

    def __setitem__(
        self, key: str, value: DistributionType0 | DistributionType1 | DistributionType2
    ) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
