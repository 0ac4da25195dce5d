from enum import StrEnum


class LossType3(StrEnum):
    MAE = "mae"

    def __str__(self) -> str:
        return str(self.value)
