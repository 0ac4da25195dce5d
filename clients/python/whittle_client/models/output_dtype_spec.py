from enum import StrEnum


class OutputDtypeSpec(StrEnum):
    BF16 = "bf16"
    F16 = "f16"
    F32 = "f32"

    def __str__(self) -> str:
        return str(self.value)
