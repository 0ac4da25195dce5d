from enum import StrEnum


class JobEventQueuedType(StrEnum):
    JOB_QUEUED = "job.queued"

    def __str__(self) -> str:
        return str(self.value)
