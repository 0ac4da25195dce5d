from enum import StrEnum


class JobKind(StrEnum):
    ANALYZE = "analyze"
    EVALUATE = "evaluate"
    PRUNE = "prune"
    QUANTIZE = "quantize"
    TRAIN = "train"
    TUNE = "tune"

    def __str__(self) -> str:
        return str(self.value)
