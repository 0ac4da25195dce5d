from enum import StrEnum


class TuneSpecSamplerType3Type(StrEnum):
    TPE = "tpe"

    def __str__(self) -> str:
        return str(self.value)
