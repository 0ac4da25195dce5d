from enum import StrEnum


class LrDecayType0Kind(StrEnum):
    CONSTANT = "constant"

    def __str__(self) -> str:
        return str(self.value)
