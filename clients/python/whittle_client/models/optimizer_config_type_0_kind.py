from enum import StrEnum


class OptimizerConfigType0Kind(StrEnum):
    SGD = "sgd"

    def __str__(self) -> str:
        return str(self.value)
