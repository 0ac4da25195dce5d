from enum import StrEnum


class LrDecayType1Kind(StrEnum):
    STEP = "step"

    def __str__(self) -> str:
        return str(self.value)
