from enum import StrEnum


class AnalyzeJobKind(StrEnum):
    ANALYZE = "analyze"

    def __str__(self) -> str:
        return str(self.value)
