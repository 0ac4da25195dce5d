from enum import StrEnum


class JobEventProgressType(StrEnum):
    JOB_PROGRESS = "job.progress"

    def __str__(self) -> str:
        return str(self.value)
