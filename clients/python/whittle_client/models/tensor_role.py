from enum import StrEnum


class TensorRole(StrEnum):
    ATTENTION_K = "attention.k"
    ATTENTION_O = "attention.o"
    ATTENTION_Q = "attention.q"
    ATTENTION_QKV = "attention.qkv"
    ATTENTION_V = "attention.v"
    EMBEDDINGS = "embeddings"
    HEAD = "head"
    LM_HEAD = "lm_head"
    MLP_DOWN = "mlp.down"
    MLP_GATE = "mlp.gate"
    MLP_UP = "mlp.up"
    NORM = "norm"
    OTHER = "other"

    def __str__(self) -> str:
        return str(self.value)
