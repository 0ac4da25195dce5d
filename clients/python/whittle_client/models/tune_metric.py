from enum import StrEnum


class TuneMetric(StrEnum):
    ACCURACY = "accuracy"
    BALANCED_ACCURACY = "balanced_accuracy"
    F1 = "f1"
    F1_WEIGHTED = "f1_weighted"
    LOG_LOSS = "log_loss"
    MAE = "mae"
    MSE = "mse"
    R2 = "r2"
    RMSE = "rmse"

    def __str__(self) -> str:
        return str(self.value)
