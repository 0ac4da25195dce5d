from enum import StrEnum


class EvaluateResultClassificationTask(StrEnum):
    CLASSIFICATION = "classification"

    def __str__(self) -> str:
        return str(self.value)
