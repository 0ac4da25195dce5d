from enum import StrEnum


class TuneSpecSamplerType1Type(StrEnum):
    GRID = "grid"

    def __str__(self) -> str:
        return str(self.value)
