from enum import StrEnum


class DistributionType0Type(StrEnum):
    FLOAT = "float"

    def __str__(self) -> str:
        return str(self.value)
