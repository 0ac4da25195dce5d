from enum import StrEnum


class TuneSpecSamplerType2Type(StrEnum):
    RANDOM = "random"

    def __str__(self) -> str:
        return str(self.value)
