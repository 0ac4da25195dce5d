from enum import StrEnum


class OptimizerConfigType1Kind(StrEnum):
    ADAM = "adam"

    def __str__(self) -> str:
        return str(self.value)
