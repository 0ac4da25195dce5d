from enum import StrEnum


class EventPayloadType0Type(StrEnum):
    JOB_QUEUED = "job.queued"

    def __str__(self) -> str:
        return str(self.value)
