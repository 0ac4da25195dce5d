from enum import StrEnum


class PrunerType1Type(StrEnum):
    MEDIAN = "median"

    def __str__(self) -> str:
        return str(self.value)
