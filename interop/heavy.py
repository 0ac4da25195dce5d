"""Heavy interop checks (torch, transformers, compressed-tensors): whittle's folder outputs load
with `from_pretrained` (compressed-tensors installed) and compute exactly what whittle's
dequantized output computes; the tensor names, dtypes, shapes and config fields are the ones
compressed-tensors' own compressor writes for the same scheme."""
import json
import os
import sys
import tempfile
import warnings

import torch
from safetensors import safe_open
from transformers import AutoModel, AutoModelForCausalLM, AutoTokenizer

from common import FIXTURES, check, run_all

warnings.filterwarnings("ignore")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

# One line per scheme: (scheme, label). Groups of 32 divide the fixtures' widths.
SCHEMES = [
    ({"bits": 8}, "W8A16 channel"),
    ({"bits": 4, "granularity": "group", "group_size": 32}, "W4A16 group 32"),
    ({"bits": 3, "granularity": "group", "group_size": 32}, "W3A16 group 32"),
    ({"bits": 4, "granularity": "tensor"}, "W4 tensor"),
]


def load_pair(server, model_id, scheme, d, auto):
    comp = server.run_job("quantize", {"model_id": model_id, "scheme": scheme, "max_shard_bytes": 20000})
    deq = server.run_job("quantize", {"model_id": model_id, "scheme": scheme, "output": "dequantized"})
    c = server.download_folder(comp["output_model_id"], os.path.join(d, "c"))
    f = server.download_folder(deq["output_model_id"], os.path.join(d, "f"))
    return auto.from_pretrained(c).eval(), auto.from_pretrained(f).eval(), c


def compare(name, auto, out, server):
    src = os.path.join(FIXTURES, name)
    ref = json.load(open(os.path.join(src, "reference.json")))
    tok = AutoTokenizer.from_pretrained(src)
    assert [tok(t)["input_ids"] for t in ref["texts"]] == ref["input_ids"], "tokenizer fixture"
    model = server.upload_folder(name, src)
    base = auto.from_pretrained(src).eval()
    for scheme, label in SCHEMES:
        with tempfile.TemporaryDirectory() as d:
            comp, deq, _ = load_pair(server, model["id"], scheme, d, auto)
            with torch.no_grad():
                for ids in ref["input_ids"]:
                    x = torch.tensor([ids])
                    a, b, r = out(comp(x)), out(deq(x)), out(base(x))
                    assert torch.equal(a, b), f"{label}: compressed load differs from dequantized by {(a - b).abs().max()}"
                    print(f"      {name} {label}: max |quantized - float| = {(a - r).abs().max().item():.4f}")


@check
def llama_folder_loads_with_from_pretrained(server):
    compare("tiny-llama", AutoModelForCausalLM, lambda o: o.logits, server)


@check
def bert_folder_loads_with_from_pretrained(server):
    compare("tiny-bert", AutoModel, lambda o: o.last_hidden_state, server)


def library_layout(scheme, tmp):
    """What compressed-tensors itself writes for `scheme` on the tiny Llama (Linear targets)."""
    from compressed_tensors.compressors import ModelCompressor
    from compressed_tensors.quantization import (QuantizationArgs, QuantizationConfig,
                                                 QuantizationScheme, apply_quantization_config)
    from compressed_tensors.quantization.utils import calculate_qparams
    m = AutoModelForCausalLM.from_pretrained(os.path.join(FIXTURES, "tiny-llama"))
    g = scheme.get("granularity", "channel")
    args = dict(num_bits=scheme["bits"], type="int", symmetric=scheme.get("symmetric", True), strategy=g)
    if g == "group":
        args["group_size"] = scheme["group_size"]
    cfg = QuantizationConfig(config_groups={"group_0": QuantizationScheme(
        targets=["Linear"], weights=QuantizationArgs(**args))})
    apply_quantization_config(m, cfg)
    for _, mod in m.named_modules():
        if hasattr(mod, "weight_scale"):
            w = mod.weight.data
            if g == "group":
                w = w.reshape(w.shape[0], -1, scheme["group_size"])
                lo, hi = w.amin(-1), w.amax(-1)
            elif g == "tensor":
                lo, hi = w.amin().reshape(1), w.amax().reshape(1)
            else:
                lo, hi = w.amin(-1, keepdim=True), w.amax(-1, keepdim=True)
            s, z = calculate_qparams(lo, hi, mod.quantization_scheme.weights)
            mod.weight_scale.data.copy_(s.reshape(mod.weight_scale.shape))
            if hasattr(mod, "weight_zero_point"):
                mod.weight_zero_point.data.copy_(z.reshape(mod.weight_zero_point.shape))
    c = ModelCompressor.from_pretrained_model(m)
    c.compress_model(m)
    m.save_pretrained(tmp, safe_serialization=True)
    c.update_config(tmp)
    return tmp


def layout(folder):
    out = {}
    for f in os.listdir(folder):
        if f.endswith(".safetensors"):
            with safe_open(os.path.join(folder, f), "pt") as fh:
                for k in fh.keys():
                    t = fh.get_tensor(k)
                    out[k] = (str(t.dtype), tuple(t.shape))
    return out


@check
def names_dtypes_shapes_and_config_match_the_library(server):
    model = server.upload_folder("tiny-llama", os.path.join(FIXTURES, "tiny-llama"))
    for scheme in [{"bits": 8}, {"bits": 4, "granularity": "group", "group_size": 32},
                   {"bits": 4, "symmetric": False, "granularity": "group", "group_size": 32},
                   {"bits": 3, "granularity": "group", "group_size": 32}]:
        with tempfile.TemporaryDirectory() as d:
            lib = library_layout(scheme, os.path.join(d, "lib"))
            job = server.run_job("quantize", {"model_id": model["id"], "scheme": scheme})
            ours = server.download_folder(job["output_model_id"], os.path.join(d, "ours"))
            a, b = layout(ours), layout(lib)
            assert a == b, (scheme, {k: (a.get(k), b.get(k)) for k in set(a) | set(b) if a.get(k) != b.get(k)})
            qa = json.load(open(os.path.join(ours, "config.json")))["quantization_config"]
            qb = json.load(open(os.path.join(lib, "config.json")))["quantization_config"]
            qb.pop("version", None)
            assert qa == qb, (scheme, qa, qb)


if __name__ == "__main__":
    sys.exit(run_all("heavy"))
