from enum import StrEnum


class SamplerType1Type(StrEnum):
    RANDOM = "random"

    def __str__(self) -> str:
        return str(self.value)
