from enum import StrEnum


class TrainBaseLossType4(StrEnum):
    MAE = "mae"

    def __str__(self) -> str:
        return str(self.value)
