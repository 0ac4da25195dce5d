from enum import StrEnum


class OnnxOpsSpec(StrEnum):
    AUTO = "auto"
    QDQ = "qdq"

    def __str__(self) -> str:
        return str(self.value)
