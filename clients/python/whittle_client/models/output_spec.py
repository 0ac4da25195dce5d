from enum import StrEnum


class OutputSpec(StrEnum):
    COMPRESSED = "compressed"
    DEQUANTIZED = "dequantized"
    ONNX = "onnx"

    def __str__(self) -> str:
        return str(self.value)
