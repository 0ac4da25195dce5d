from enum import StrEnum


class JobEventFailedType(StrEnum):
    JOB_FAILED = "job.failed"

    def __str__(self) -> str:
        return str(self.value)
