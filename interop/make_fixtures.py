"""Makes the tiny transformer fixtures in tests/fixtures/ offline (no hub downloads).

    interop/.venv-heavy/bin/python interop/make_fixtures.py

tiny-llama: LlamaForCausalLM (hidden 32, 2 layers, 4 heads, 2 kv heads), saved sharded
(model-0000N-of-0000M.safetensors + model.safetensors.index.json) with a byte-level BPE
tokenizer; tiny-bert: BertModel (hidden 32, 2 layers, 2 heads) in one model.safetensors with
a WordPiece tokenizer. Each folder gets reference.json: input texts, their token ids and a
slice of the outputs (logits / last hidden state) for tests that run the models.
"""
import json
import os
import shutil

import torch
from tokenizers import (Tokenizer, decoders, models, normalizers, pre_tokenizers, processors,
                        trainers)
from transformers import (BertConfig, BertModel, LlamaConfig, LlamaForCausalLM,
                          PreTrainedTokenizerFast)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures")
TEXTS = ["whittle quantizes models", "a small test of the tokenizer", "hello world"]
CORPUS = TEXTS + ["the quick brown fox jumps over the lazy dog"] * 4


def bpe_tokenizer():
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=["<unk>", "<s>", "</s>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(CORPUS, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>",
                                   unk_token="<unk>")


def wordpiece_tokenizer():
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(vocab_size=120, special_tokens=[
        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    tok.train_from_iterator(CORPUS, trainer)
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]",
                                   cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]",
                                   model_input_names=["input_ids", "token_type_ids", "attention_mask"])


def fresh(name):
    path = os.path.join(ROOT, name)
    shutil.rmtree(path, ignore_errors=True)
    return path


def llama():
    torch.manual_seed(0)
    tok = bpe_tokenizer()
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64,
                      num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                      max_position_embeddings=64, tie_word_embeddings=False,
                      bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id)
    model = LlamaForCausalLM(cfg).eval()
    path = fresh("tiny-llama")
    model.save_pretrained(path, safe_serialization=True, max_shard_size="40KB")
    tok.save_pretrained(path)
    ids = [tok(t)["input_ids"] for t in TEXTS]
    with torch.no_grad():
        out = [model(torch.tensor([i])).logits[0] for i in ids]
    nll = [torch.nn.functional.cross_entropy(o[:-1], torch.tensor(i[1:]), reduction="none").tolist()
           for o, i in zip(out, ids)]
    ref = {"texts": TEXTS, "input_ids": ids,
           "last_logits_first8": [o[-1, :8].tolist() for o in out],
           "logits_first8": [o[:, :8].tolist() for o in out],
           "argmax": [o.argmax(-1).tolist() for o in out],
           "token_nll": nll}
    json.dump(ref, open(os.path.join(path, "reference.json"), "w"), indent=1)


def bert():
    torch.manual_seed(1)
    tok = wordpiece_tokenizer()
    cfg = BertConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=2,
                     num_attention_heads=2, intermediate_size=64, max_position_embeddings=64)
    model = BertModel(cfg).eval()
    path = fresh("tiny-bert")
    model.save_pretrained(path, safe_serialization=True)
    tok.save_pretrained(path)
    ids = [tok(t)["input_ids"] for t in TEXTS]
    with torch.no_grad():
        hidden = [model(torch.tensor([i])).last_hidden_state[0] for i in ids]
        pair = tok(TEXTS[0], TEXTS[2], return_tensors="pt")
        pair_hidden = model(**pair).last_hidden_state[0]
    mean = [torch.nn.functional.normalize(h.mean(0), dim=0).tolist() for h in hidden]
    ref = {"texts": TEXTS, "input_ids": ids,
           "cls_hidden_first8": [h[0, :8].tolist() for h in hidden],
           "last_hidden": [h.tolist() for h in hidden],
           "mean_pooled_normalized": mean,
           "pair": {"text": TEXTS[0], "text_pair": TEXTS[2],
                    "input_ids": pair["input_ids"][0].tolist(),
                    "token_type_ids": pair["token_type_ids"][0].tolist(),
                    "last_hidden": pair_hidden.tolist()}}
    json.dump(ref, open(os.path.join(path, "reference.json"), "w"), indent=1)


if __name__ == "__main__":
    llama()
    bert()
    for name in ["tiny-llama", "tiny-bert"]:
        path = os.path.join(ROOT, name)
        size = sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path))
        print(name, sorted(os.listdir(path)), size, "bytes")
