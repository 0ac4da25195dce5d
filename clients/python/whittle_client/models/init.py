from enum import StrEnum


class Init(StrEnum):
    GLOROT_NORMAL = "glorot_normal"
    GLOROT_UNIFORM = "glorot_uniform"
    HE_NORMAL = "he_normal"
    HE_UNIFORM = "he_uniform"

    def __str__(self) -> str:
        return str(self.value)
