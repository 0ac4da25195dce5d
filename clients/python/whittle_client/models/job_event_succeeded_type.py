from enum import StrEnum


class JobEventSucceededType(StrEnum):
    JOB_SUCCEEDED = "job.succeeded"

    def __str__(self) -> str:
        return str(self.value)
