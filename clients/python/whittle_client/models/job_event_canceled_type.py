from enum import StrEnum


class JobEventCanceledType(StrEnum):
    JOB_CANCELED = "job.canceled"

    def __str__(self) -> str:
        return str(self.value)
