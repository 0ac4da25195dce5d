from enum import StrEnum


class GranularitySpec(StrEnum):
    CHANNEL = "channel"
    GROUP = "group"
    TENSOR = "tensor"

    def __str__(self) -> str:
        return str(self.value)
