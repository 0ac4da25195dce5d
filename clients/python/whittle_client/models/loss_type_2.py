from enum import StrEnum


class LossType2(StrEnum):
    MSE = "mse"

    def __str__(self) -> str:
        return str(self.value)
