from enum import StrEnum


class EventPayloadType4Type(StrEnum):
    JOB_TRIAL = "job.trial"

    def __str__(self) -> str:
        return str(self.value)
