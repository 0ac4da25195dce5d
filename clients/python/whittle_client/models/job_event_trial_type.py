from enum import StrEnum


class JobEventTrialType(StrEnum):
    JOB_TRIAL = "job.trial"

    def __str__(self) -> str:
        return str(self.value)
