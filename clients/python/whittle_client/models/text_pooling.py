from enum import StrEnum


class TextPooling(StrEnum):
    CLS = "cls"
    MAX = "max"
    MEAN = "mean"

    def __str__(self) -> str:
        return str(self.value)
