from enum import StrEnum


class LossType0(StrEnum):
    CROSS_ENTROPY = "cross_entropy"

    def __str__(self) -> str:
        return str(self.value)
