from enum import StrEnum


class QuantizeJobKind(StrEnum):
    QUANTIZE = "quantize"

    def __str__(self) -> str:
        return str(self.value)
