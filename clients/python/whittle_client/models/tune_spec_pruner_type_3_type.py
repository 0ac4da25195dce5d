from enum import StrEnum


class TuneSpecPrunerType3Type(StrEnum):
    ASHA = "asha"

    def __str__(self) -> str:
        return str(self.value)
