"""Light interop checks (numpy + safetensors, no torch): what whittle writes opens with the
safetensors library, folders keep their shape, and the compressed-tensors decode of every
compressed output equals whittle's dequantized output for the same spec, bit for bit."""
import json
import os
import sys
import tempfile

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load

from common import FIXTURES, check, run_all

# One line per scheme whittle offers: (scheme, extra spec fields).
SCHEMES = [
    ({"bits": 8}, {}),
    ({"bits": 8, "symmetric": False}, {}),
    ({"bits": 8}, {"compressed_format": "int-quantized"}),
    ({"bits": 8, "symmetric": False}, {"compressed_format": "int-quantized"}),
    ({"bits": 4, "granularity": "group", "group_size": 32}, {}),
    ({"bits": 4, "symmetric": False, "granularity": "group", "group_size": 32}, {}),
    ({"bits": 3, "granularity": "group", "group_size": 32}, {}),
    ({"bits": 6, "granularity": "channel"}, {}),
    ({"bits": 4, "granularity": "tensor"}, {}),
    ({"bits": 2, "symmetric": False, "granularity": "channel"}, {}),
]


def folder_tensors(path):
    out = {}
    for f in sorted(os.listdir(path)):
        if f.endswith(".safetensors"):
            with open(os.path.join(path, f), "rb") as fh:
                out.update(load(fh.read()))
    return out


def check_decode(server, model_id, folder):
    for scheme, extra in SCHEMES:
        spec = {"model_id": model_id, "scheme": scheme, **extra}
        comp = server.run_job("quantize", spec)
        deq = server.run_job("quantize", {"model_id": model_id, "scheme": scheme, "output": "dequantized"})
        config = comp["result"]["quantization_config"]
        with tempfile.TemporaryDirectory() as d:
            if folder:
                c = folder_tensors(server.download_folder(comp["output_model_id"], os.path.join(d, "c")))
                f = folder_tensors(server.download_folder(deq["output_model_id"], os.path.join(d, "f")))
                cfg = json.load(open(os.path.join(d, "c", "config.json")))
                assert cfg["quantization_config"] == config, (cfg, config)
            else:
                c = load(server.download(comp["output_model_id"]))
                f = load(server.download(deq["output_model_id"]))
        quantized = [t["name"] for t in comp["result"]["tensors"]]
        assert quantized, comp["result"]
        for name in quantized:
            got = decode(c, name, config)
            want = f[name]
            assert got.dtype == want.dtype and got.shape == want.shape, (name, got.dtype, want.dtype)
            if not np.array_equal(got, want):
                diff = np.abs(got.astype(np.float64) - want.astype(np.float64))
                raise AssertionError(f"{scheme} {extra} {name}: {int((diff > 0).sum())} of {diff.size} "
                                     f"elements differ, max {diff.max()}")
        # Everything not quantized is carried over unchanged.
        for name, t in f.items():
            if name not in quantized:
                assert np.array_equal(c[name], t), name


from decode import decode  # noqa: E402


@check
def mlp_compressed_decodes_to_dequantized(server):
    model = server.upload_file("digits", open(os.path.join(FIXTURES, "digits_mlp.safetensors"), "rb").read())
    check_decode(server, model["id"], folder=False)


@check
def llama_folder_compressed_decodes_to_dequantized(server):
    model = server.upload_folder("tiny-llama", os.path.join(FIXTURES, "tiny-llama"))
    assert model["layout"] == "folder", model
    check_decode(server, model["id"], folder=True)


@check
def folders_keep_their_shape(server):
    src = os.path.join(FIXTURES, "tiny-llama")
    model = server.upload_folder("tiny-llama", src)
    for kind, spec in [("quantize", {"scheme": {"bits": 4, "granularity": "group", "group_size": 32},
                                     "max_shard_bytes": 8000}),
                       ("prune", {"method": "magnitude", "sparsity": 0.5})]:
        job = server.run_job(kind, {"model_id": model["id"], **spec})
        with tempfile.TemporaryDirectory() as d:
            out = server.download_folder(job["output_model_id"], d)
            files = sorted(os.listdir(out))
            shards = [f for f in files if f.endswith(".safetensors")]
            if len(shards) > 1:
                index = json.load(open(os.path.join(out, "model.safetensors.index.json")))
            else:
                assert shards == ["model.safetensors"] and "model.safetensors.index.json" not in files
                index = {"weight_map": {}}
            seen = {}
            for s in shards:
                with safe_open(os.path.join(out, s), "numpy") as fh:
                    assert fh.metadata().get("format") == "pt", (s, fh.metadata())
                    for k in fh.keys():
                        seen[k] = s
                        fh.get_tensor(k)
            if len(shards) > 1:
                assert seen == index["weight_map"], (kind, seen, index)
            for side in ["tokenizer.json", "tokenizer_config.json", "generation_config.json"]:
                assert open(os.path.join(out, side), "rb").read() == open(os.path.join(src, side), "rb").read(), side
            if kind == "prune":
                before = folder_tensors(src)
                after = folder_tensors(out)
                assert {k: (v.dtype, v.shape) for k, v in before.items()} == \
                       {k: (v.dtype, v.shape) for k, v in after.items()}
                assert open(os.path.join(out, "config.json"), "rb").read() == \
                       open(os.path.join(src, "config.json"), "rb").read()
            else:
                assert len(shards) > 1, files


if __name__ == "__main__":
    sys.exit(run_all("light"))
