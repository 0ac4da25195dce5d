from enum import StrEnum


class EventPayloadType7Type(StrEnum):
    JOB_SUCCEEDED = "job.succeeded"

    def __str__(self) -> str:
        return str(self.value)
