from enum import StrEnum


class SamplerType2Type(StrEnum):
    TPE = "tpe"

    def __str__(self) -> str:
        return str(self.value)
