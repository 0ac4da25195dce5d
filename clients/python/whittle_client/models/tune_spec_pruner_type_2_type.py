from enum import StrEnum


class TuneSpecPrunerType2Type(StrEnum):
    MEDIAN = "median"

    def __str__(self) -> str:
        return str(self.value)
