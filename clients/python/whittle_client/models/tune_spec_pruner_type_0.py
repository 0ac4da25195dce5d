from enum import StrEnum


class TuneSpecPrunerType0(StrEnum):
    ASHA = "asha"
    MEDIAN = "median"
    NONE = "none"

    def __str__(self) -> str:
        return str(self.value)
