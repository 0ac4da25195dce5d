from enum import StrEnum


class StudyResultSamplerType2Type(StrEnum):
    RANDOM = "random"

    def __str__(self) -> str:
        return str(self.value)
