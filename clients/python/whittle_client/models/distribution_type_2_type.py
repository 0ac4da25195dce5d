from enum import StrEnum


class DistributionType2Type(StrEnum):
    CATEGORICAL = "categorical"

    def __str__(self) -> str:
        return str(self.value)
