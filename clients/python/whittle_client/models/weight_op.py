from enum import StrEnum


class WeightOp(StrEnum):
    DEQUANTIZE_LINEAR = "dequantize_linear"
    FLOAT = "float"
    MATMUL_NBITS = "matmul_nbits"

    def __str__(self) -> str:
        return str(self.value)
