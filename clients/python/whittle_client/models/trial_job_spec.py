from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar
from uuid import UUID

from attrs import define as _attrs_define

T = TypeVar("T", bound="TrialJobSpec")


@_attrs_define
class TrialJobSpec:
    """Spec of a `trial` child job.

    Attributes:
        number (int): Trial number within the study (0-based).
        study_job_id (UUID): The tune job this trial belongs to.
    """

    number: int
    study_job_id: UUID

    def to_dict(self) -> dict[str, Any]:
        number = self.number

        study_job_id = str(self.study_job_id)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "number": number,
                "study_job_id": study_job_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        number = d.pop("number")

        study_job_id = UUID(d.pop("study_job_id"))

        trial_job_spec = cls(
            number=number,
            study_job_id=study_job_id,
        )

        return trial_job_spec
