from enum import StrEnum


class TuneJobKind(StrEnum):
    TUNE = "tune"

    def __str__(self) -> str:
        return str(self.value)
