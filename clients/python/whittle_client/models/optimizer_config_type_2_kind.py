from enum import StrEnum


class OptimizerConfigType2Kind(StrEnum):
    ADAMW = "adamw"

    def __str__(self) -> str:
        return str(self.value)
