from enum import StrEnum


class StudyResultPrunerType1Type(StrEnum):
    NONE = "none"

    def __str__(self) -> str:
        return str(self.value)
