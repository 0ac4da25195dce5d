from enum import StrEnum


class EventPayloadType5Type(StrEnum):
    JOB_CANCEL_REQUESTED = "job.cancel_requested"

    def __str__(self) -> str:
        return str(self.value)
