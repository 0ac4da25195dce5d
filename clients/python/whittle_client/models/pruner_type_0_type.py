from enum import StrEnum


class PrunerType0Type(StrEnum):
    NONE = "none"

    def __str__(self) -> str:
        return str(self.value)
