from enum import StrEnum


class TrialJobKind(StrEnum):
    TRIAL = "trial"

    def __str__(self) -> str:
        return str(self.value)
