from enum import StrEnum


class EventPayloadType6Type(StrEnum):
    JOB_RETRY_SCHEDULED = "job.retry_scheduled"

    def __str__(self) -> str:
        return str(self.value)
