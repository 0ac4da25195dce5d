from enum import StrEnum


class EvaluateResultRegressionTask(StrEnum):
    REGRESSION = "regression"

    def __str__(self) -> str:
        return str(self.value)
