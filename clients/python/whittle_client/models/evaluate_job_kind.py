from enum import StrEnum


class EvaluateJobKind(StrEnum):
    EVALUATE = "evaluate"

    def __str__(self) -> str:
        return str(self.value)
