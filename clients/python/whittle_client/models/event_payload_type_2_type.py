from enum import StrEnum


class EventPayloadType2Type(StrEnum):
    JOB_PROGRESS = "job.progress"

    def __str__(self) -> str:
        return str(self.value)
