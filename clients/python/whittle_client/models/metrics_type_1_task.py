from enum import StrEnum


class MetricsType1Task(StrEnum):
    REGRESSION = "regression"

    def __str__(self) -> str:
        return str(self.value)
