from enum import StrEnum


class StudyResultSamplerType1Type(StrEnum):
    GRID = "grid"

    def __str__(self) -> str:
        return str(self.value)
