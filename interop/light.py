"""Light interop checks (numpy, safetensors, onnx, onnxruntime; no torch): what whittle writes
opens with the safetensors library, folders keep their shape, the compressed-tensors decode of
every compressed output equals whittle's dequantized output for the same spec, bit for bit,
and `output: onnx` models pass onnx's checker and score in onnxruntime what whittle reports."""
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


# (scheme, extra spec fields, the op whittle should store the layers' weights with).
ONNX_SCHEMES = [
    ({"bits": 8}, {}, "matmul_nbits"),
    ({"bits": 8}, {"onnx_ops": "qdq"}, "dequantize_linear"),
    ({"bits": 8, "symmetric": False, "granularity": "tensor"}, {}, "matmul_nbits"),
    ({"bits": 8, "symmetric": False, "granularity": "tensor"}, {"onnx_ops": "qdq"}, "dequantize_linear"),
    ({"bits": 6, "symmetric": False, "granularity": "group", "group_size": 16}, {}, "dequantize_linear"),
    ({"bits": 4, "granularity": "group", "group_size": 32}, {}, "matmul_nbits"),
    ({"bits": 4, "granularity": "group", "group_size": 32}, {"onnx_ops": "qdq"}, "dequantize_linear"),
    ({"bits": 4, "symmetric": False, "granularity": "group", "group_size": 16}, {}, "matmul_nbits"),
    ({"bits": 4, "granularity": "group", "group_size": 24}, {}, "dequantize_linear"),
    ({"bits": 2, "symmetric": False, "granularity": "channel"}, {}, "matmul_nbits"),
    ({"bits": 3, "granularity": "channel"}, {}, "dequantize_linear"),
]


def read_csv(path):
    rows = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float32)
    return rows[:, :-1], rows[:, -1].astype(np.int64)


def ort_labels(path, x):
    import onnxruntime as ort

    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    outputs = [o.name for o in session.get_outputs()]
    assert [i.name for i in session.get_inputs()] == ["input"], session.get_inputs()
    assert outputs == ["logits", "probabilities", "label"], outputs
    logits, proba, label = session.run(None, {"input": x})
    assert label.dtype == np.int64 and label.shape == (len(x),), (label.dtype, label.shape)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert (label == logits.argmax(axis=1)).all()
    return label


@check
def onnx_output_scores_in_onnxruntime_as_whittle_reports(server):
    import onnx

    model = server.upload_file("digits", open(os.path.join(FIXTURES, "digits_mlp.safetensors"), "rb").read())
    csv = open(os.path.join(FIXTURES, "digits_test.csv"), "rb").read()
    status, body = server.request("POST", "/v1/datasets?name=digits-test&target=label", csv, "text/csv")
    assert status == 201, body
    dataset = json.loads(body)
    x, y = read_csv(os.path.join(FIXTURES, "digits_test.csv"))
    for scheme, extra, op in ONNX_SCHEMES:
        job = server.run_job("quantize", {"model_id": model["id"], "scheme": scheme, "output": "onnx",
                                          "eval_dataset_id": dataset["id"], **extra})
        r = job["result"]
        assert r["output"] == "onnx" and r["onnx"]["opset"] == 21, r["onnx"]
        assert [l["op"] for l in r["onnx"]["layers"]] == [op] * len(r["onnx"]["layers"]), (scheme, r["onnx"])
        out_id = job["output_model_id"]
        _, out = server.json("GET", f"/v1/models/{out_id}")
        assert out["format"] == "onnx", out
        with tempfile.TemporaryDirectory() as d:
            server.download_folder(out_id, d)
            assert sorted(os.listdir(d)) == ["model.onnx", "model.safetensors", "model_quantized.onnx"], os.listdir(d)
            for name, reported in [("model.onnx", r["accuracy_before"]), ("model_quantized.onnx", r["accuracy_after"])]:
                path = os.path.join(d, name)
                onnx.checker.check_model(onnx.load(path), full_check=True)
                meta = {p.key: p.value for p in onnx.load(path).metadata_props}
                assert meta["task"] == "classification" and meta["whittle_job_id"] == job["id"], meta
                accuracy = float((ort_labels(path, x) == y).mean())
                # Float sums in another order may move a near tie: at most one row.
                assert abs(accuracy - reported) <= 1.0 / len(y) + 1e-12, (scheme, name, accuracy, reported)
            # whittle's own evaluate runs on the same output (its dequantized weights).
            ev = server.run_job("evaluate", {"model_id": out_id, "dataset_id": dataset["id"]})
            assert abs(ev["result"]["accuracy"] - r["accuracy_after"]) < 1e-12, (ev["result"], r)
        print(f"      onnx {scheme} {extra}: accuracy {r['accuracy_before']:.4f} -> {r['accuracy_after']:.4f}, "
              f"{r['onnx']['layers'][0]['op']}, {r['bytes_after']} bytes (float {r['bytes_before']})")
    # Only an MLP has an ONNX graph whittle writes: a transformer folder is refused up front.
    llama = server.upload_folder("tiny-llama", os.path.join(FIXTURES, "tiny-llama"))
    status, problem = server.json("POST", "/v1/jobs", {"kind": "quantize", "spec": {"model_id": llama["id"], "output": "onnx"}})
    assert status == 422 and any(e["field"] == "spec.output" for e in problem["errors"]), (status, problem)


if __name__ == "__main__":
    sys.exit(run_all("light"))
