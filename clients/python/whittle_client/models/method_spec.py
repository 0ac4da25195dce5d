from enum import StrEnum


class MethodSpec(StrEnum):
    GPTQ = "gptq"
    HQQ = "hqq"
    MSE = "mse"
    RTN = "rtn"

    def __str__(self) -> str:
        return str(self.value)
