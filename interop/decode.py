"""compressed-tensors decoding written from the format's description, with numpy only
(independent of whittle's Rust reader): dense int32 packing (code i of a row at bit i*bits,
least significant first, offset 2^(bits-1)), zero points packed the same way down the rows,
and x = (q - zero_point) * scale computed in the scale's dtype."""
import numpy as np

TORCH_DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64}


def unpack_rows(words, cols, bits):
    """[rows, words] int32 → [rows, cols] unsigned codes."""
    w = words.astype(np.uint32).astype(np.uint64)
    rows = w.shape[0]
    bit = np.arange(cols, dtype=np.uint64) * np.uint64(bits)
    idx, off = bit // np.uint64(32), bit % np.uint64(32)
    lo = w[:, idx]
    hi = np.where((idx + 1)[None, :] < w.shape[1], w[:, np.minimum(idx + 1, w.shape[1] - 1)], 0)
    both = lo | (hi << np.uint64(32))
    return ((both >> off[None, :]) & np.uint64((1 << bits) - 1)).astype(np.int64).reshape(rows, cols)


def decode(tensors, name, config):
    """The float weight of module weight `name` from its compressed entries."""
    weights = config["config_groups"]["group_0"]["weights"]
    bits, sym = weights["num_bits"], weights["symmetric"]
    fmt = config["format"]
    scale = tensors[f"{name}_scale"]
    if fmt == "pack-quantized":
        rows, cols = (int(v) for v in tensors[f"{name}_shape"])
        q = unpack_rows(tensors[f"{name}_packed"], cols, bits) - (1 << (bits - 1))
    elif fmt == "int-quantized":
        q = tensors[name].astype(np.int64)
        rows, cols = q.shape
    else:
        raise AssertionError(f"format {fmt}")
    groups = scale.shape[-1] if scale.ndim == 2 else 1
    if sym:
        zp = np.zeros((rows, groups), dtype=np.int64) if scale.ndim == 2 else np.zeros((1, 1), np.int64)
    else:
        z = tensors[f"{name}_zero_point"]
        if fmt == "pack-quantized" and z.dtype == np.int32 and scale.ndim == 2:
            zp = unpack_rows(z.T.copy(), rows, bits).T - (1 << (bits - 1))
        else:
            zp = z.astype(np.int64).reshape(scale.shape if scale.ndim == 2 else (1, 1))
    if scale.ndim == 2:
        per_col = cols // groups if weights["strategy"] == "group" else cols
        s = np.repeat(scale, per_col if groups > 1 else cols, axis=1)[:, :cols]
        zc = np.repeat(zp, per_col if groups > 1 else cols, axis=1)[:, :cols]
    else:
        s, zc = scale.reshape(1, 1), zp
    # Computed in f32 from exact integers and the stored scale, rounded once to its dtype.
    return ((q - zc).astype(np.float32) * s.astype(np.float32)).astype(scale.dtype)
