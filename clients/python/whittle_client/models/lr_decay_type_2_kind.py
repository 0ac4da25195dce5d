from enum import StrEnum


class LrDecayType2Kind(StrEnum):
    COSINE = "cosine"

    def __str__(self) -> str:
        return str(self.value)
