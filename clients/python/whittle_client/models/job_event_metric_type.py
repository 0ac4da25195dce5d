from enum import StrEnum


class JobEventMetricType(StrEnum):
    JOB_METRIC = "job.metric"

    def __str__(self) -> str:
        return str(self.value)
