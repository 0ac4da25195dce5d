from enum import StrEnum


class PrunerType2Type(StrEnum):
    ASHA = "asha"

    def __str__(self) -> str:
        return str(self.value)
