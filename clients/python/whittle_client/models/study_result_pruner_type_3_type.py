from enum import StrEnum


class StudyResultPrunerType3Type(StrEnum):
    ASHA = "asha"

    def __str__(self) -> str:
        return str(self.value)
