"""The peer of bench_transformers.py's GPTQ line: llm-compressor's `oneshot` with a
GPTQModifier W4A16 recipe (int4, symmetric, groups of 128; Linear layers, lm_head left in
float; llm-compressor's defaults otherwise: no activation ordering, dampening 0.01, blocks of
128 columns) on CPU, 2 threads, on the same calibration texts (at most `max_length` tokens
each, so nothing is truncated). Run with interop/.venv-bench:

    interop/.venv-bench/bin/python interop/bench_gptq_peer.py <model dir> <texts.json> <out dir> [max_length]

The tokenizer is read from the folder's tokenizer.json (transformers 4.52 does not know the
`TokenizersBackend` class transformers 5 writes in tokenizer_config.json). Prints one JSON
line: wall time (load → compressed folder written), its phases, calibration tokens, the float
model's NLL on the first text (a check that both transformers versions load the same model),
and the process's peak RSS (with the RSS after imports, before the model is loaded).
"""
import json
import os
import resource
import sys
import time

started_imports = time.perf_counter()
import torch  # noqa: E402

torch.set_num_threads(2)
from datasets import Dataset  # noqa: E402
from transformers import AutoModelForCausalLM, PreTrainedTokenizerFast  # noqa: E402

import llmcompressor  # noqa: E402
from llmcompressor import oneshot  # noqa: E402
from llmcompressor.modifiers.quantization import GPTQModifier  # noqa: E402

IMPORT_S = time.perf_counter() - started_imports


def rss(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return None


def main():
    model_dir, texts_file, out = sys.argv[1:4]
    max_length = int(sys.argv[4]) if len(sys.argv) > 4 else 512
    with open(texts_file) as f:
        rows = json.load(f)
    rss_imports = rss("VmRSS")
    started = time.perf_counter()
    model = AutoModelForCausalLM.from_pretrained(model_dir, torch_dtype=torch.float32)
    tok = PreTrainedTokenizerFast(tokenizer_file=os.path.join(model_dir, "tokenizer.json"),
                                  bos_token="<s>", eos_token="</s>", unk_token="<unk>")
    ds = Dataset.from_dict({"text": rows}).map(
        lambda x: tok(x["text"], truncation=True, max_length=max_length), remove_columns=["text"])
    tokens = sum(len(x) for x in ds["input_ids"])
    with torch.inference_mode():
        ids = torch.tensor([ds[0]["input_ids"]])
        logits = model(ids).logits[0]
        float_nll = float(torch.nn.functional.cross_entropy(logits[:-1], ids[0, 1:]))
    loaded = time.perf_counter()
    recipe = GPTQModifier(targets="Linear", scheme="W4A16", ignore=["lm_head"])
    oneshot(model=model, dataset=ds, recipe=recipe, tokenizer=tok, max_seq_length=max_length,
            num_calibration_samples=len(rows), output_dir=None, log_dir=None)
    quantized = time.perf_counter()
    model.save_pretrained(out, save_compressed=True)
    tok.save_pretrained(out)
    done = time.perf_counter()
    print(json.dumps({"bench": "gptq_w4g128", "tool": "llm-compressor", "version": llmcompressor.__version__,
                      "torch": torch.__version__.split("+")[0], "wall_s": round(done - started, 2),
                      "load_tokenize_s": round(loaded - started, 2), "oneshot_s": round(quantized - loaded, 2),
                      "save_s": round(done - quantized, 2), "import_s": round(IMPORT_S, 2),
                      "calibration_examples": len(rows), "calibration_tokens": tokens,
                      "float_nll_first_text": float_nll,
                      "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                      "rss_after_imports_bytes": rss_imports}), flush=True)


if __name__ == "__main__":
    main()
