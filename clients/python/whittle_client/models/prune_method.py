from enum import StrEnum


class PruneMethod(StrEnum):
    MAGNITUDE = "magnitude"
    NM = "nm"
    STRUCTURED = "structured"
    THRESHOLD = "threshold"
    WANDA = "wanda"

    def __str__(self) -> str:
        return str(self.value)
