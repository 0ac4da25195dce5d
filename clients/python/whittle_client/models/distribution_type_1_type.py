from enum import StrEnum


class DistributionType1Type(StrEnum):
    INT = "int"

    def __str__(self) -> str:
        return str(self.value)
