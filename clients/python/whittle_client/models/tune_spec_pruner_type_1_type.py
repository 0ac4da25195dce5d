from enum import StrEnum


class TuneSpecPrunerType1Type(StrEnum):
    NONE = "none"

    def __str__(self) -> str:
        return str(self.value)
