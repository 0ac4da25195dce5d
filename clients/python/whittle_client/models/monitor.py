from enum import StrEnum


class Monitor(StrEnum):
    TRAIN_LOSS = "train_loss"
    VAL_LOSS = "val_loss"
    VAL_METRIC = "val_metric"

    def __str__(self) -> str:
        return str(self.value)
