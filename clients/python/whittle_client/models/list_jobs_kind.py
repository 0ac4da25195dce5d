from enum import StrEnum


class ListJobsKind(StrEnum):
    ANALYZE = "analyze"
    EVALUATE = "evaluate"
    PRUNE = "prune"
    QUANTIZE = "quantize"
    TRAIN = "train"
    TRIAL = "trial"
    TUNE = "tune"

    def __str__(self) -> str:
        return str(self.value)
