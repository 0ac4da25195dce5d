from enum import StrEnum


class TrainBaseLossType3(StrEnum):
    MSE = "mse"

    def __str__(self) -> str:
        return str(self.value)
