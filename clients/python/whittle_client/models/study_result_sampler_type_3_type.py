from enum import StrEnum


class StudyResultSamplerType3Type(StrEnum):
    TPE = "tpe"

    def __str__(self) -> str:
        return str(self.value)
