"""ONNX bench: whittle's `output: onnx` beside onnxruntime's own quantizer, in one run.

whittle (a real server) quantizes the digits MLP to ONNX — int8 per channel (MatMulNBits, and
QDQ with `onnx_ops: qdq`) and int4 groups of 32 (MatMulNBits) — and the file whittle exports as float (`model.onnx`) goes through
`onnxruntime.quantization.quantize_dynamic(QInt8, per_channel)`, the peer. Each model is then
run in onnxruntime on the 360-row digits test split: accuracy, agreement with the float
model's labels, file bytes, rows/s on the whole split (200 runs) and batch-1 latency (1000
runs), 2 intra-op threads. For whittle the wall time is what a user sees: POST the job,
wait for it, download the folder; for the peer, the quantize_dynamic call.

    WHITTLE_BIN=target/release/whittle bash interop/run.sh bench-onnx

Prints one JSON line per model.
"""
import json
import os
import sys
import tempfile
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnxruntime.quantization import QuantType, quantize_dynamic

from common import FIXTURES, Server

RUNS, LATENCY_RUNS = 200, 1000


def read_csv(path):
    rows = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float32)
    return rows[:, :-1], rows[:, -1].astype(np.int64)


def measure(path, x, y, reference):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    session = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    out = session.run(None, {name: x})
    # whittle's graphs end in `label`; the peer's keeps the logits only.
    label = out[2] if len(out) == 3 else out[0].argmax(axis=1)
    started = time.perf_counter()
    for _ in range(RUNS):
        session.run(None, {name: x})
    rows_per_s = RUNS * len(x) / (time.perf_counter() - started)
    started = time.perf_counter()
    for i in range(LATENCY_RUNS):
        j = i % len(x)
        session.run(None, {name: x[j:j + 1]})
    batch1_us = (time.perf_counter() - started) / LATENCY_RUNS * 1e6
    return label, {
        "test_acc": round(float((label == y).mean()), 4),
        "agree_with_float": None if reference is None else round(float((label == reference).mean()), 4),
        "file_bytes": os.path.getsize(path),
        "rows_per_s": round(rows_per_s),
        "batch1_us": round(batch1_us, 1),
        "ops": sorted({n.op_type for n in onnx.load(path).graph.node}),
    }


def main():
    x, y = read_csv(os.path.join(FIXTURES, "digits_test.csv"))
    server = Server()
    try:
        model = server.upload_file("digits", open(os.path.join(FIXTURES, "digits_mlp.safetensors"), "rb").read())
        with tempfile.TemporaryDirectory() as d:
            reference = None
            for label, scheme, extra in [
                    ("int8_channel", {"bits": 8}, {}),
                    ("int8_channel_qdq", {"bits": 8}, {"onnx_ops": "qdq"}),
                    ("int4_g32", {"bits": 4, "granularity": "group", "group_size": 32}, {})]:
                started = time.perf_counter()
                job = server.run_job("quantize", {"model_id": model["id"], "scheme": scheme, "output": "onnx",
                                                  **extra})
                out = server.download_folder(job["output_model_id"], os.path.join(d, label))
                wall = time.perf_counter() - started
                if reference is None:
                    reference, float_line = measure(os.path.join(out, "model.onnx"), x, y, None)
                    print(json.dumps({"bench": "onnx", "tool": "whittle", "model": "float", **float_line}))
                    float_path = os.path.join(out, "model.onnx")
                _, line = measure(os.path.join(out, "model_quantized.onnx"), x, y, reference)
                print(json.dumps({"bench": "onnx", "tool": "whittle", "model": label,
                                  "upload_to_download_s": round(wall, 3),
                                  "job_elapsed_s": round(job["result"]["elapsed_seconds"], 3), **line}))
            for per_channel in (False, True):
                path = os.path.join(d, f"ort_dynamic_{per_channel}.onnx")
                started = time.perf_counter()
                quantize_dynamic(float_path, path, weight_type=QuantType.QInt8, per_channel=per_channel)
                wall = time.perf_counter() - started
                _, line = measure(path, x, y, reference)
                print(json.dumps({"bench": "onnx", "tool": "onnxruntime.quantize_dynamic",
                                  "model": f"qint8_per_channel_{per_channel}".lower(),
                                  "quantize_s": round(wall, 3), **line}))
    finally:
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
