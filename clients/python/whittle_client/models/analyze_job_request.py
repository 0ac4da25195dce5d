from __future__ import annotations

from collections.abc import Mapping
from typing import (
    TYPE_CHECKING,
    Any,
    Literal,
    Self,
    TypeVar,
    cast,
)

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.analyze_spec import AnalyzeSpec


T = TypeVar("T", bound="AnalyzeJobRequest")


@_attrs_define
class AnalyzeJobRequest:
    """Submit a `analyze` job.

    Attributes:
        kind (Literal['analyze']):
        spec (AnalyzeSpec): Spec of an `analyze` job.
        max_attempts (int | Unset): Attempts before the job ends failed, 1..=25 (default 3). Default: 3.
        priority (int | Unset): Higher runs sooner, -100..=100 (default 0). Default: 0.
    """

    kind: Literal["analyze"]
    spec: AnalyzeSpec
    max_attempts: int | Unset = 3
    priority: int | Unset = 0

    def to_dict(self) -> dict[str, Any]:
        kind = self.kind

        spec = self.spec.to_dict()

        max_attempts = self.max_attempts

        priority = self.priority

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "kind": kind,
                "spec": spec,
            }
        )
        if max_attempts is not UNSET:
            field_dict["max_attempts"] = max_attempts
        if priority is not UNSET:
            field_dict["priority"] = priority

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.analyze_spec import AnalyzeSpec

        d = dict(src_dict)
        kind = cast(Literal["analyze"], d.pop("kind"))
        if kind != "analyze":
            raise ValueError(f"kind must match const 'analyze', got '{kind}'")

        spec = AnalyzeSpec.from_dict(d.pop("spec"))

        max_attempts = d.pop("max_attempts", UNSET)

        priority = d.pop("priority", UNSET)

        analyze_job_request = cls(
            kind=kind,
            spec=spec,
            max_attempts=max_attempts,
            priority=priority,
        )

        return analyze_job_request
