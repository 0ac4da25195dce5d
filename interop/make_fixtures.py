"""Makes the tiny transformer fixtures in tests/fixtures/ offline (no hub downloads).

    interop/.venv-heavy/bin/python interop/make_fixtures.py

tiny-llama: LlamaForCausalLM (hidden 32, 2 layers, 4 heads, 2 kv heads), saved sharded
(model-0000N-of-0000M.safetensors + model.safetensors.index.json) with a byte-level BPE
tokenizer; tiny-bert: BertModel (hidden 32, 2 layers, 2 heads) in one model.safetensors with
a WordPiece tokenizer; tiny-bert-cls: BertForSequenceClassification (labels neg/pos) sharing
tiny-bert's tokenizer. Each folder gets reference.json: input texts, their token ids and a
slice of the outputs (logits / last hidden state) for tests that run the models.

The Llama and the classifier are trained for a few hundred steps on generated text
(calibration.jsonl, reviews.jsonl, also written here) so their perplexity and accuracy mean
something: compressing them costs quality a gate can see. Random-init models predict a near
uniform distribution that pruning hardly changes.
"""
import json
import os
import random
import shutil

import torch
from tokenizers import (Tokenizer, decoders, models, normalizers, pre_tokenizers, processors,
                        trainers)
from transformers import (BertConfig, BertForSequenceClassification, BertModel, LlamaConfig,
                          LlamaForCausalLM, PreTrainedTokenizerFast)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures")
TEXTS = ["whittle quantizes models", "a small test of the tokenizer", "hello world"]
WORDS = ("whittle quantizes models a small test of the tokenizer hello world the quick brown fox "
         "jumps over lazy dog service queue worker job upload dataset train evaluate prune tune "
         "metrics weights layers tokens sentence model memory bits group scale error output input"
         ).split()
# Words that decide a review's label (the rest are neutral).
GOOD, BAD = ["fast", "cheap", "precise"], ["slow", "large", "wrong"]


def sentences(seed, n, lo=6, hi=18):
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(lo, hi))) for _ in range(n)]


def templated(seed, n):
    """Text with structure a tiny model can learn: repeated phrases in varying order."""
    rng = random.Random(seed)
    phrases = ["the quick brown fox jumps over the lazy dog", "whittle quantizes models",
               "a small test of the tokenizer", "hello world", "upload a dataset and train a model",
               "prune the weights and evaluate the output"]
    return [" ".join(rng.choice(phrases) for _ in range(rng.randint(2, 4))) for _ in range(n)]


def reviews(seed, n):
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        label = rng.choice(["neg", "pos"])
        words = [rng.choice(WORDS) for _ in range(rng.randint(4, 10))]
        for _ in range(rng.randint(1, 2)):
            words.insert(rng.randrange(len(words) + 1), rng.choice(GOOD if label == "pos" else BAD))
        out.append({"text": " ".join(words), "label": label})
    return out


CALIBRATION = templated(7, 48)
TRAIN_TEXT = templated(11, 256)
REVIEWS_TRAIN, REVIEWS_EVAL = reviews(3, 512), reviews(5, 64)
CORPUS = (TEXTS + ["the quick brown fox jumps over the lazy dog"] * 4 + TRAIN_TEXT
          + [r["text"] for r in REVIEWS_TRAIN])


def train(model, batches, steps, lr):
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    for step in range(steps):
        loss = model(**batches[step % len(batches)]).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    print(type(model).__name__, "final training loss", float(loss))


def write_jsonl(name, rows):
    with open(os.path.join(ROOT, name), "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")


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
    model = LlamaForCausalLM(cfg)
    batches = []
    for i in range(0, len(TRAIN_TEXT), 16):
        enc = [torch.tensor(tok(t)["input_ids"][:64]) for t in TRAIN_TEXT[i:i + 16]]
        ids = torch.nn.utils.rnn.pad_sequence(enc, batch_first=True, padding_value=0)
        mask = (torch.arange(ids.shape[1])[None] < torch.tensor([len(e) for e in enc])[:, None])
        labels = ids.masked_fill(~mask, -100)
        batches.append({"input_ids": ids, "attention_mask": mask.long(), "labels": labels})
    train(model, batches, 300, 1e-2)
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


def bert_cls():
    torch.manual_seed(2)
    tok = wordpiece_tokenizer()
    cfg = BertConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=2,
                     num_attention_heads=2, intermediate_size=64, max_position_embeddings=64,
                     num_labels=2, id2label={0: "neg", 1: "pos"}, label2id={"neg": 0, "pos": 1})
    model = BertForSequenceClassification(cfg)
    batches = []
    for i in range(0, len(REVIEWS_TRAIN), 32):
        chunk = REVIEWS_TRAIN[i:i + 32]
        enc = tok([r["text"] for r in chunk], padding=True, truncation=True, max_length=64,
                  return_tensors="pt")
        enc["labels"] = torch.tensor([cfg.label2id[r["label"]] for r in chunk])
        batches.append(dict(enc))
    train(model, batches, 300, 3e-3)
    path = fresh("tiny-bert-cls")
    model.save_pretrained(path, safe_serialization=True)
    tok.save_pretrained(path)
    texts = [r["text"] for r in REVIEWS_EVAL[:4]]
    enc = tok(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        logits = model(**enc).logits
        acc = (model(**tok([r["text"] for r in REVIEWS_EVAL], padding=True, return_tensors="pt"))
               .logits.argmax(-1) == torch.tensor([cfg.label2id[r["label"]] for r in REVIEWS_EVAL])
               ).float().mean().item()
    print("tiny-bert-cls eval accuracy", acc)
    ref = {"texts": texts, "input_ids": [tok(t)["input_ids"] for t in texts],
           "logits": logits.tolist(), "eval_accuracy": acc}
    json.dump(ref, open(os.path.join(path, "reference.json"), "w"), indent=1)


if __name__ == "__main__":
    write_jsonl("calibration.jsonl", [{"text": t} for t in CALIBRATION])
    write_jsonl("reviews.jsonl", REVIEWS_EVAL)
    llama()
    bert()
    bert_cls()
    for name in ["tiny-llama", "tiny-bert", "tiny-bert-cls"]:
        path = os.path.join(ROOT, name)
        size = sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path))
        print(name, sorted(os.listdir(path)), size, "bytes")
