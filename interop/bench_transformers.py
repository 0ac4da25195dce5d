"""Transformer bench: whittle beside PyTorch on the same weights and inputs, in one run.

Models with random weights are built offline with transformers (no hub downloads), each with
a tokenizer trained here on generated text (a Zipf-distributed lexicon of 24k pseudo-words,
so the vocabularies fill up as real ones do):

- a MiniLM-sized BertModel (hidden 384, 6 layers, 12 heads, intermediate 1536, WordPiece
  vocab 16k), and the same encoder under a 16-label BertForSequenceClassification head;
- a small LlamaForCausalLM (hidden 512, 8 layers, 8 heads, 4 kv heads, intermediate 1408,
  byte-level BPE vocab 8k, untied lm_head).

whittle (a real release server, over HTTP) runs `evaluate` on a JSON Lines text dataset;
PyTorch (fp32, 2 threads, inference mode) runs the same tokenized inputs with the same
batching, timed after one warm-up batch:

- encoder_forward: 512 texts cut to 128 tokens, batches of 16 padded sequences with
  attention masks; tokens/s (real tokens). The evaluate API returns no embeddings, so the
  "same computation" check is encoder_check: the classifier's argmax on every text, labels
  being torch's predictions (whittle's accuracy = agreement with torch);
- decoder_perplexity: non-overlapping windows of 512 tokens (stride 512), one sequence per
  forward; tokens/s and the perplexity both compute (relative difference printed);
- gptq_w4g128: GPTQ int4, groups of 128, symmetric, of the decoder's block Linears
  (embeddings and lm_head stay float) on 64 calibration texts of up to 512 tokens (cut at a
  word boundary so neither tool chunks or truncates differently): whittle's job on a fresh
  server (its VmHWM is the job's: the server has loaded nothing else) beside llm-compressor's
  `oneshot` GPTQModifier W4A16 (bench_gptq_peer.py in interop/.venv-bench); then both
  compressed folders are loaded back with transformers (compressed-tensors) here and scored
  on the first decoder windows (perplexity, relative logits error to the float model).

whittle's tokens/s is the evaluate job's own figure (tokenization and the first batch
included); torch's excludes tokenization (timed apart, `torch_tokenize_s`). Wall times are
upload → job done as a user sees them.

    WHITTLE_BIN=target/release/whittle bash interop/run.sh bench-transformers

Prints one JSON line per measurement.
"""
import bisect
import contextlib
import io
import itertools
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TQDM_DISABLE", "1")  # transformers' and compressed-tensors' progress bars
import torch  # noqa: E402
import transformers  # noqa: E402
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers  # noqa: E402
from transformers import (AutoModelForCausalLM, BertConfig, BertForSequenceClassification, BertModel,  # noqa: E402
                          LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast)

from common import Server  # noqa: E402

torch.set_num_threads(2)
HERE = os.path.dirname(os.path.abspath(__file__))
ENC_TEXTS, ENC_LEN, ENC_BATCH = 512, 128, 16
DEC_TEXTS, DEC_WINDOW = 24, 512
CALIB_TEXTS, CALIB_LEN = 64, 512
QUALITY_WINDOWS = 8


def quiet():
    """Swallows transformers' and compressed-tensors' progress bars (stderr)."""
    return contextlib.redirect_stderr(io.StringIO())


# --- generated text -------------------------------------------------------------------------

def lexicon(n=24000):
    rng = random.Random(1234)
    onsets = ["", "", "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v",
              "w", "z", "br", "cl", "dr", "st", "tr", "pl", "gr", "sh", "ch", "th", "qu", "sp"]
    vowels = ["a", "e", "i", "o", "u", "a", "e", "i", "ai", "ea", "ou", "io", "y"]
    codas = ["", "", "", "n", "r", "s", "t", "l", "m", "nd", "st", "ck", "ng", "x"]
    words = set()
    while len(words) < n:
        k = rng.choice([1, 1, 2, 2, 2, 3, 3, 4])
        words.add("".join(rng.choice(onsets) + rng.choice(vowels) + rng.choice(codas) for _ in range(k)))
    words = sorted(words)
    rng.shuffle(words)
    return words


WORDS = lexicon()
CUM = list(itertools.accumulate(1.0 / (r + 1) ** 1.05 for r in range(len(WORDS))))


def sentence(rng):
    n = rng.randint(6, 24)
    ws = [WORDS[bisect.bisect(CUM, rng.random() * CUM[-1])] for _ in range(n)]
    for i in range(n):
        r = rng.random()
        if r < 0.03:
            ws[i] = str(rng.randint(0, 2030))
        elif r < 0.08 and i < n - 1:
            ws[i] += ","
    ws[0] = ws[0].capitalize()
    return " ".join(ws) + rng.choice([".", ".", ".", "?", "!"])


def texts(seed, n, lo, hi):
    """n texts of lo..hi words (whole sentences)."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        goal, parts, words = rng.randint(lo, hi), [], 0
        while words < goal:
            s = sentence(rng)
            parts.append(s)
            words += s.count(" ") + 1
        out.append(" ".join(parts))
    return out


def corpus():
    return texts(0, 6000, 30, 120)


def cut(tok, rows, limit):
    """Each text cut at the last word boundary that keeps it within `limit` tokens (so the
    prefix tokenizes to exactly the first tokens of the whole text)."""
    out = []
    for t in rows:
        enc = tok(t, return_offsets_mapping=True)
        ids, offs = enc["input_ids"], enc["offset_mapping"]
        if len(ids) > limit:
            j = max(j for j in range(1, limit + 1) if t[offs[j][0]] == " ")
            t = t[:offs[j][0]]
            assert tok(t)["input_ids"] == ids[:j]
        out.append(t)
    return out


# --- models -----------------------------------------------------------------------------------

def wordpiece():
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.train_from_iterator(corpus(), trainers.WordPieceTrainer(
        vocab_size=16000, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]))
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]",
                                   cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]",
                                   model_input_names=["input_ids", "token_type_ids", "attention_mask"])


def bert_folders(path, cls_path, sample):
    tok = wordpiece()
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=len(tok), hidden_size=384, num_hidden_layers=6, num_attention_heads=12,
                     intermediate_size=1536, max_position_embeddings=512)
    model = BertModel(cfg).eval()
    with quiet():
        model.save_pretrained(path, safe_serialization=True)
        tok.save_pretrained(path)
    cfg_cls = BertConfig(**{**cfg.to_dict(), "num_labels": 16})
    cls = BertForSequenceClassification(cfg_cls).eval()
    cls.bert.load_state_dict(model.state_dict())
    # A random-init head sees nearly the same pooled vector for every text (one or two labels
    # win everywhere): centre and scale it on sample texts so the 16 labels all occur.
    with torch.inference_mode():
        pooled = torch.cat([cls.bert(**b).pooler_output for b in encoder_batches(tok, sample)])
        w = torch.randn(16, cfg.hidden_size, generator=torch.Generator().manual_seed(2))
        z = (pooled - pooled.mean(0)) @ w.T
        w /= z.std()
        cls.classifier.weight.copy_(w)
        cls.classifier.bias.copy_(-(pooled.mean(0) @ w.T))
    with quiet():
        cls.save_pretrained(cls_path, safe_serialization=True)
        tok.save_pretrained(cls_path)
    return model, cls, tok


def llama_folder(path):
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(corpus(), trainers.BpeTrainer(
        vocab_size=8000, special_tokens=["<unk>", "<s>", "</s>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>")
    torch.manual_seed(1)
    cfg = LlamaConfig(vocab_size=len(fast), hidden_size=512, intermediate_size=1408, num_hidden_layers=8,
                      num_attention_heads=8, num_key_value_heads=4, max_position_embeddings=1024,
                      tie_word_embeddings=False, bos_token_id=fast.bos_token_id, eos_token_id=fast.eos_token_id)
    model = LlamaForCausalLM(cfg).eval()
    with quiet():
        model.save_pretrained(path, safe_serialization=True)
        fast.save_pretrained(path)
    return model, fast


# --- torch side -------------------------------------------------------------------------------

def encoder_batches(tok, rows):
    enc = [tok(t, truncation=True, max_length=ENC_LEN) for t in rows]
    batches = []
    for i in range(0, len(enc), ENC_BATCH):
        chunk = enc[i:i + ENC_BATCH]
        width = max(len(e["input_ids"]) for e in chunk)
        pad = [width - len(e["input_ids"]) for e in chunk]
        ids = torch.tensor([e["input_ids"] + [tok.pad_token_id] * p for e, p in zip(chunk, pad)])
        mask = torch.tensor([[1] * len(e["input_ids"]) + [0] * p for e, p in zip(chunk, pad)])
        batches.append({"input_ids": ids, "attention_mask": mask, "token_type_ids": torch.zeros_like(ids)})
    return batches


def torch_encoder(model, tok, rows):
    started = time.perf_counter()
    batches = encoder_batches(tok, rows)
    tokenize_s = time.perf_counter() - started
    with torch.inference_mode():
        model(**batches[0])
        started = time.perf_counter()
        for b in batches:
            model(**b)
        seconds = time.perf_counter() - started
    return sum(int(b["attention_mask"].sum()) for b in batches), seconds, tokenize_s


def torch_classes(model, tok, rows):
    with torch.inference_mode():
        logits = torch.cat([model(**b).logits for b in encoder_batches(tok, rows)])
    top2 = logits.topk(2, dim=-1).values
    return logits.argmax(-1).tolist(), float((top2[:, 0] - top2[:, 1]).min())


def decoder_windows(tok, rows):
    windows = []
    for t in rows:
        ids = tok(t)["input_ids"]
        windows += [ids[i:i + DEC_WINDOW] for i in range(0, len(ids), DEC_WINDOW) if len(ids) - i >= 2]
    return windows


def torch_decoder(model, tok, rows):
    started = time.perf_counter()
    windows = decoder_windows(tok, rows)
    tokenize_s = time.perf_counter() - started
    nll, count = 0.0, 0
    with torch.inference_mode():
        model(torch.tensor([windows[0]]))
        started = time.perf_counter()
        for w in windows:
            logits = model(torch.tensor([w])).logits[0]
            nll += float(torch.nn.functional.cross_entropy(logits[:-1], torch.tensor(w[1:]), reduction="sum"))
            count += len(w) - 1
        seconds = time.perf_counter() - started
    return count, seconds, math.exp(nll / count), tokenize_s, len(windows)


def quality(model, windows, reference=None):
    """Perplexity on `windows` and, given the float model's logits, the relative error."""
    nll, count, err, logits_out = 0.0, 0, [], []
    with torch.inference_mode():
        for k, w in enumerate(windows):
            logits = model(torch.tensor([w])).logits[0].float()
            nll += float(torch.nn.functional.cross_entropy(logits[:-1], torch.tensor(w[1:]), reduction="sum"))
            count += len(w) - 1
            logits_out.append(logits)
            if reference is not None:
                err.append(float((logits - reference[k]).norm() / reference[k].norm()))
    return math.exp(nll / count), (sum(err) / len(err) if err else None), logits_out


# --- whittle side -----------------------------------------------------------------------------

def jsonl(rows):
    return "".join(json.dumps(r if isinstance(r, dict) else {"text": r}) + "\n" for r in rows).encode()


def upload_text(server, name, rows):
    status, body = server.request("POST", f"/v1/datasets?name={name}", jsonl(rows), "application/jsonl")
    assert status == 201, body
    return json.loads(body)


def proc_status(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return None


def folder_bytes(path):
    return sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path))


def emit(**kw):
    print(json.dumps(kw), flush=True)


def main():
    tmp = tempfile.TemporaryDirectory(prefix="whittle-bench-")
    t = tmp.name
    cpu = next((x.split(":", 1)[1].strip() for x in open("/proc/cpuinfo") if x.startswith("model name")), None)
    version = subprocess.run([os.environ.get("WHITTLE_BIN", os.path.join(HERE, "..", "target", "debug", "whittle")),
                              "--version"], capture_output=True, text=True).stdout.strip()
    emit(bench="env", cpus=os.cpu_count(), cpu=cpu, torch=torch.__version__, torch_threads=torch.get_num_threads(),
         torch_cpu_capability=torch.backends.cpu.get_cpu_capability(), transformers=transformers.__version__,
         whittle=version, loadavg_1m_at_start=os.getloadavg()[0])
    enc_dir, cls_dir, dec_dir = (os.path.join(t, n) for n in ("bert", "bert-cls", "llama"))
    enc_rows = texts(1, ENC_TEXTS, 15, 130)
    bert, bert_cls, bert_tok = bert_folders(enc_dir, cls_dir, enc_rows[:64])
    llama, llama_tok = llama_folder(dec_dir)
    dec_rows = texts(2, DEC_TEXTS, 600, 900)
    calib_rows = cut(llama_tok, texts(3, CALIB_TEXTS, 330, 420), CALIB_LEN)
    calib_tokens = sum(len(llama_tok(r)["input_ids"]) for r in calib_rows)

    server = Server()
    try:
        # Encoder throughput.
        started = time.perf_counter()
        m = server.upload_folder("bert", enc_dir)
        ds = upload_text(server, "enc", enc_rows)
        spec = {"model_id": m["id"], "dataset_id": ds["id"], "max_length": ENC_LEN, "batch_size": ENC_BATCH}
        job = server.run_job("evaluate", spec, timeout=1800)
        wall = time.perf_counter() - started
        r = job["result"]
        again = server.run_job("evaluate", spec, timeout=1800)["result"]
        tokens, seconds, tok_s = torch_encoder(bert, bert_tok, enc_rows)
        emit(bench="encoder_forward", model="BertModel h384 L6 H12 I1536", vocab=len(bert_tok),
             texts=len(enc_rows), max_length=ENC_LEN, batch_size=ENC_BATCH,
             truncated_examples=r["truncated_examples"],
             whittle_tokens=r["tokens"], whittle_tokens_per_s=round(r["tokens_per_second"]),
             whittle_job_s=round(r["seconds"], 2), whittle_wall_s=round(wall, 2),
             whittle_repeat_tokens_per_s=round(again["tokens_per_second"]),
             whittle_peak_rss_bytes=r.get("peak_rss_bytes"),
             torch_tokens=tokens, torch_tokens_per_s=round(tokens / seconds), torch_forward_s=round(seconds, 2),
             torch_tokenize_s=round(tok_s, 3), whittle_over_torch=round(r["tokens_per_second"] / (tokens / seconds), 3))
        # Encoder equivalence: a 16-label head on the same encoder; labels = torch's argmax.
        labels, margin = torch_classes(bert_cls, bert_tok, enc_rows)
        m = server.upload_folder("bert-cls", cls_dir)
        ds = upload_text(server, "enc-labels", [{"text": x, "label": bert_cls.config.id2label[y]}
                                                for x, y in zip(enc_rows, labels)])
        job = server.run_job("evaluate", {"model_id": m["id"], "dataset_id": ds["id"], "max_length": ENC_LEN,
                                          "batch_size": ENC_BATCH}, timeout=1800)
        r = job["result"]
        emit(bench="encoder_check", model="BertForSequenceClassification (same encoder, 16 labels)",
             texts=len(enc_rows), distinct_torch_labels=len(set(labels)),
             whittle_agreement_with_torch=r["classification"]["accuracy"],
             torch_min_top2_logit_margin=round(margin, 6),
             whittle_tokens_per_s=round(r["tokens_per_second"]))
        # Decoder perplexity throughput.
        started = time.perf_counter()
        m = server.upload_folder("llama", dec_dir)
        ds = upload_text(server, "dec", dec_rows)
        spec = {"model_id": m["id"], "dataset_id": ds["id"], "max_length": DEC_WINDOW, "stride": DEC_WINDOW}
        job = server.run_job("evaluate", spec, timeout=1800)
        wall = time.perf_counter() - started
        r = job["result"]
        again = server.run_job("evaluate", spec, timeout=1800)["result"]
        tokens, seconds, ppl, tok_s, n_windows = torch_decoder(llama, llama_tok, dec_rows)
        emit(bench="decoder_perplexity", model="LlamaForCausalLM h512 L8 H8 KV4 I1408", vocab=len(llama_tok),
             texts=len(dec_rows), windows=n_windows, window=DEC_WINDOW, stride=DEC_WINDOW,
             whittle_tokens=r["tokens"], whittle_tokens_per_s=round(r["tokens_per_second"]),
             whittle_job_s=round(r["seconds"], 2), whittle_wall_s=round(wall, 2),
             whittle_repeat_tokens_per_s=round(again["tokens_per_second"]),
             whittle_peak_rss_bytes=r.get("peak_rss_bytes"), whittle_perplexity=r["perplexity"],
             torch_tokens=tokens, torch_tokens_per_s=round(tokens / seconds), torch_forward_s=round(seconds, 2),
             torch_tokenize_s=round(tok_s, 3), torch_perplexity=ppl,
             perplexity_rel_diff=abs(r["perplexity"] - ppl) / ppl,
             whittle_over_torch=round(r["tokens_per_second"] / (tokens / seconds), 3))
    finally:
        server.close()

    # GPTQ on a fresh server, so its peak RSS is the job's.
    windows = decoder_windows(llama_tok, dec_rows)[:QUALITY_WINDOWS]
    float_ppl, _, float_logits = quality(llama, windows)
    server = Server()
    try:
        pid = server.proc.pid
        rss_idle = proc_status(pid, "VmRSS")
        started = time.perf_counter()
        m = server.upload_folder("llama", dec_dir)
        ds = upload_text(server, "calib", calib_rows)
        hwm_uploaded = proc_status(pid, "VmHWM")
        job = server.run_job("quantize", {"model_id": m["id"], "method": "gptq",
                                          "scheme": {"bits": 4, "granularity": "group", "group_size": 128},
                                          "calibration_dataset_id": ds["id"], "max_length": CALIB_LEN,
                                          "max_examples": CALIB_TEXTS,
                                          "exclude": ["lm_head.weight", "model.embed_tokens.weight"]},
                             timeout=3600)
        wall = time.perf_counter() - started
        hwm = proc_status(pid, "VmHWM")
        r, g = job["result"], job["result"]["gptq"]
        started = time.perf_counter()
        out_dir = server.download_folder(job["output_model_id"], os.path.join(t, "whittle-gptq"))
        download_s = time.perf_counter() - started
    finally:
        server.close()
    line = dict(bench="gptq_w4g128", tool="whittle", wall_s=round(wall, 2), job_s=round(r["elapsed_seconds"], 2),
                calibration_s=round(g["calibration"]["seconds"], 2), download_s=round(download_s, 2),
                calibration_examples=g["calibration"]["examples"], calibration_sequences=g["calibration"]["sequences"],
                calibration_tokens=g["calibration"]["tokens"], expected_calibration_tokens=calib_tokens,
                gptq_layers=len(g["layers"]), peak_rss_bytes=hwm, job_reported_peak_rss_bytes=g["calibration"].get(
                    "peak_rss_bytes"), idle_rss_bytes=rss_idle, hwm_after_upload_bytes=hwm_uploaded,
                mean_gptq_output_error=g["mean_gptq_output_error"], mean_rtn_output_error=g["mean_rtn_output_error"],
                output_bytes=folder_bytes(out_dir))
    try:
        with quiet():
            q = AutoModelForCausalLM.from_pretrained(out_dir).eval()
        line["quant_perplexity"], line["quant_rel_logits_error"], _ = quality(q, windows, float_logits)
        line["float_perplexity"] = float_ppl
        del q
    except Exception as e:  # noqa: BLE001 - reported, the bench goes on
        line["quality_error"] = f"{type(e).__name__}: {str(e)[:300]}"
    emit(**line)

    peer = os.path.join(HERE, ".venv-bench", "bin", "python")
    if not os.path.exists(peer):
        emit(bench="gptq_w4g128", tool="llm-compressor", error="no interop/.venv-bench")
        return 0
    calib_file, peer_out = os.path.join(t, "calib.json"), os.path.join(t, "llmc-gptq")
    with open(calib_file, "w") as f:
        json.dump(calib_rows, f)
    started = time.perf_counter()
    out = subprocess.run([peer, os.path.join(HERE, "bench_gptq_peer.py"), dec_dir, calib_file, peer_out,
                          str(CALIB_LEN)], capture_output=True, text=True,
                         env=dict(os.environ, OMP_NUM_THREADS="2", TOKENIZERS_PARALLELISM="false"),
                         cwd=t)  # llm-compressor writes ./sparse_logs
    process_s = time.perf_counter() - started
    lines = [x for x in out.stdout.splitlines() if x.startswith("{")]
    if out.returncode != 0 or not lines:
        emit(bench="gptq_w4g128", tool="llm-compressor", error=(out.stderr or out.stdout)[-2000:])
        return 0
    line = json.loads(lines[-1])
    line["process_wall_s"] = round(process_s, 2)
    line["expected_calibration_tokens"] = calib_tokens
    line["output_bytes"] = folder_bytes(peer_out)
    with torch.inference_mode():
        w = torch.tensor([llama_tok(calib_rows[0])["input_ids"]])
        logits = llama(w).logits[0]
        line["float_nll_here"] = float(torch.nn.functional.cross_entropy(logits[:-1], w[0, 1:]))
    try:
        with quiet():
            q = AutoModelForCausalLM.from_pretrained(peer_out).eval()
        line["quant_perplexity"], line["quant_rel_logits_error"], _ = quality(q, windows, float_logits)
        line["float_perplexity"] = float_ppl
    except Exception as e:  # noqa: BLE001 - reported, the bench goes on
        line["quality_error"] = f"{type(e).__name__}: {str(e)[:300]}"
    emit(**line)
    emit(bench="env", loadavg_1m_at_end=os.getloadavg()[0])
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
