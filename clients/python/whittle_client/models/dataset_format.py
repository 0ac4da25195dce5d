from enum import StrEnum


class DatasetFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"
    NPY = "npy"

    def __str__(self) -> str:
        return str(self.value)
