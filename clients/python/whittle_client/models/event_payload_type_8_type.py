from enum import StrEnum


class EventPayloadType8Type(StrEnum):
    JOB_FAILED = "job.failed"

    def __str__(self) -> str:
        return str(self.value)
