from enum import StrEnum


class Activation(StrEnum):
    GELU = "gelu"
    IDENTITY = "identity"
    LEAKY_RELU = "leaky_relu"
    RELU = "relu"
    SIGMOID = "sigmoid"
    TANH = "tanh"

    def __str__(self) -> str:
        return str(self.value)
