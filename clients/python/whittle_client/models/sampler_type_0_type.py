from enum import StrEnum


class SamplerType0Type(StrEnum):
    GRID = "grid"

    def __str__(self) -> str:
        return str(self.value)
