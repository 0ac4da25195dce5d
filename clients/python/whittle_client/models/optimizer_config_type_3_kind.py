from enum import StrEnum


class OptimizerConfigType3Kind(StrEnum):
    RMSPROP = "rmsprop"

    def __str__(self) -> str:
        return str(self.value)
