from enum import StrEnum


class EventPayloadType3Type(StrEnum):
    JOB_METRIC = "job.metric"

    def __str__(self) -> str:
        return str(self.value)
