from enum import StrEnum


class ModelEvaluationClassificationTask(StrEnum):
    CLASSIFICATION = "classification"

    def __str__(self) -> str:
        return str(self.value)
