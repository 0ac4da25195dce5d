"""The numpy pipeline a Python user would write for the steps of `cargo bench --bench e2e`:
safetensors `load_file` -> numpy -> `save_file`, one step per invocation of this script.

    python e2e_peer.py <step> <input.safetensors> <output path>

Steps: int8 (symmetric per-row RTN, int8 codes + f32 scales), int4 (asymmetric groups of 128
along each row, codes packed two per byte, f32 scales, int8 zero points), prune50 (global
magnitude at 50 %: one threshold over every tensor), analyze (per-tensor min, max, mean, std,
abs max, zero fraction, 0.1/99.9 percentiles and a 64-bin histogram, written as JSON).
Prints one JSON object: the step's seconds, load included.
"""
import json
import sys
import time

import numpy as np
from safetensors.numpy import load_file, save_file


def int8(tensors):
    out = {}
    for name, w in tensors.items():
        scale = np.abs(w).max(axis=1, keepdims=True) / 127.0
        scale[scale == 0] = 1.0
        q = np.rint(w / scale)
        np.clip(q, -127, 127, out=q)
        out[name] = q.astype(np.int8)
        out[name + "_scale"] = scale.astype(np.float32)
    return out


def int4(tensors, group=128):
    out = {}
    for name, w in tensors.items():
        rows, cols = w.shape
        g = w.reshape(rows, cols // group, group)
        lo = np.minimum(g.min(axis=2, keepdims=True), 0.0)
        hi = np.maximum(g.max(axis=2, keepdims=True), 0.0)
        scale = (hi - lo) / 15.0
        scale[scale == 0] = 1.0
        zero = np.rint(-8.0 - lo / scale)
        q = np.rint(g / scale) + zero
        np.clip(q, -8, 7, out=q)
        u = (q.astype(np.int16) + 8).astype(np.uint8).reshape(rows, cols)
        out[name + "_packed"] = (u[:, 0::2] | (u[:, 1::2] << 4)).astype(np.uint8)
        out[name + "_scale"] = scale.reshape(rows, -1).astype(np.float32)
        out[name + "_zero_point"] = zero.reshape(rows, -1).astype(np.int8)
    return out


def prune50(tensors):
    mags = np.concatenate([np.abs(w).ravel() for w in tensors.values()])
    k = mags.size // 2
    threshold = np.partition(mags, k)[k]
    del mags
    out = {}
    for name, w in tensors.items():
        w = w.copy()
        w[np.abs(w) < threshold] = 0.0
        out[name] = w
    return out


def analyze(tensors):
    report = {}
    for name, w in tensors.items():
        a = np.abs(w)
        lo, hi = float(w.min()), float(w.max())
        p = np.percentile(w, [0.1, 99.9])
        hist, _ = np.histogram(w, bins=64, range=(lo, hi))
        report[name] = {
            "min": lo,
            "max": hi,
            "mean": float(w.mean(dtype=np.float64)),
            "std": float(w.std(dtype=np.float64)),
            "abs_max": float(a.max()),
            "zero_fraction": float(np.count_nonzero(w == 0) / w.size),
            "p0_1": float(p[0]),
            "p99_9": float(p[1]),
            "histogram": hist.tolist(),
        }
    return report


def main():
    step, src, dst = sys.argv[1], sys.argv[2], sys.argv[3]
    t0 = time.perf_counter()
    tensors = load_file(src)
    if step == "analyze":
        with open(dst, "w") as f:
            json.dump(analyze(tensors), f)
    else:
        save_file({"int8": int8, "int4": int4, "prune50": prune50}[step](tensors), dst)
    print(json.dumps({"step": step, "s": time.perf_counter() - t0}))


if __name__ == "__main__":
    main()
