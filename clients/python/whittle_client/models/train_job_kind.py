from enum import StrEnum


class TrainJobKind(StrEnum):
    TRAIN = "train"

    def __str__(self) -> str:
        return str(self.value)
