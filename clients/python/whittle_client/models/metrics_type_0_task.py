from enum import StrEnum


class MetricsType0Task(StrEnum):
    CLASSIFICATION = "classification"

    def __str__(self) -> str:
        return str(self.value)
