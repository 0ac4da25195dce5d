from enum import StrEnum


class ModelEvaluationRegressionTask(StrEnum):
    REGRESSION = "regression"

    def __str__(self) -> str:
        return str(self.value)
