from enum import StrEnum


class PruneJobKind(StrEnum):
    PRUNE = "prune"

    def __str__(self) -> str:
        return str(self.value)
