from enum import StrEnum


class CompressedFormatSpec(StrEnum):
    INT_QUANTIZED = "int-quantized"
    PACK_QUANTIZED = "pack-quantized"

    def __str__(self) -> str:
        return str(self.value)
