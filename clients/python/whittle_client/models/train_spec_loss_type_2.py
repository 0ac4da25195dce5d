from enum import StrEnum


class TrainSpecLossType2(StrEnum):
    BINARY_CROSS_ENTROPY = "binary_cross_entropy"

    def __str__(self) -> str:
        return str(self.value)
