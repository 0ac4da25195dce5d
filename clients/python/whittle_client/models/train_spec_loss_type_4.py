from enum import StrEnum


class TrainSpecLossType4(StrEnum):
    MAE = "mae"

    def __str__(self) -> str:
        return str(self.value)
