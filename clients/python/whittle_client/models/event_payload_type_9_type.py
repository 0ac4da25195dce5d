from enum import StrEnum


class EventPayloadType9Type(StrEnum):
    JOB_CANCELED = "job.canceled"

    def __str__(self) -> str:
        return str(self.value)
