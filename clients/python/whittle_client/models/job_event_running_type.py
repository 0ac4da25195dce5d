from enum import StrEnum


class JobEventRunningType(StrEnum):
    JOB_RUNNING = "job.running"

    def __str__(self) -> str:
        return str(self.value)
