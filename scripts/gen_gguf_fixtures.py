#!/usr/bin/env python3
"""gen_gguf_fixtures.py — reference fixtures for the GGUF reader and dequantizers.

Writes into tests/fixtures/gguf/ (all values come from the `gguf` Python
package, the reference; tested with gguf 0.19.0):

  dequant.bin    random blocks of every type g4 dequantizes, with valid f16
                 scales (edge values included: +-0, subnormals, the largest
                 f16), and gguf.quants.dequantize's float32 output for them.
                 Layout: "G4DQ", u32 n_records; per record u32 type id,
                 u32 n_elements, u32 n_bytes, the block bytes, n_elements f32.
  quant.bin      float32 inputs and gguf.quants.quantize's bytes for the
                 types the package quantizes in Python and g4_quantize
                 implements (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0). Layout: "G4QT",
                 u32 n_records; per record u32 type id, u32 n_elements,
                 u32 n_bytes, n_elements f32, the block bytes.
  meta_v3.gguf   written by gguf.GGUFWriter: every metadata value type as a
                 scalar and as an array (the writer refuses empty arrays; the C test crafts one
                ), general.alignment = 64, and tensors of several
                 types. tests/unit/test_gguf.c checks the values set below.
  small_v2.gguf  a small file from GGUFWriter with its version patched to 2
                 (v2 and v3 share the little-endian layout; the writer only
                 writes v3). Used as the base image of the truncation test.
  gemma3_270m.bin  facts about the real Gemma 3 270M Q4_K_M GGUF read by
                 gguf.GGUFReader: tensor and key counts and, for two tensors
                 of every type present, the first 512 dequantized values and
                 the float64 sum and sum of |x| of the whole tensor.
                 Layout: "G4GM", u32 n_tensors, u32 n_kv, u32 n_records; per
                 record u32 name_len, name, u32 type, u64 n_elements,
                 f64 sum, f64 sum_abs, u32 n_first, n_first f32 (n_first = min(512, n)).

Run from the repository root: python3 scripts/gen_gguf_fixtures.py [model.gguf]
(the model defaults to ~/.cache/g4/gemma-3-270m-q4_k_m.gguf).
"""
import math
import os
import struct
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T, GGUFValueType as V

OUT = "tests/fixtures/gguf"
rng = np.random.default_rng(20261128)

# Byte offsets of the f16 scale fields in each block (ggml-common.h layouts).
SCALE_OFFSETS = {
    T.Q4_0: [0], T.Q4_1: [0, 2], T.Q5_0: [0], T.Q5_1: [0, 2], T.Q8_0: [0],
    T.Q2_K: [80, 82], T.Q3_K: [108], T.Q4_K: [0, 2], T.Q5_K: [0, 2], T.Q6_K: [208],
    T.IQ4_NL: [0], T.IQ4_XS: [0], T.TQ1_0: [52], T.TQ2_0: [64], T.MXFP4: [],
}
# f16 edge values for scales: +-0, smallest/largest subnormal, smallest
# normal, 1, the largest finite value and its negation.
EDGE_F16 = [0x0000, 0x8000, 0x0001, 0x8001, 0x03FF, 0x0400, 0x3C00, 0x7BFF, 0xFBFF]


def random_scale_bits(n):
    """Mostly typical scales (|d| ~ 1e-4..1), some edge values."""
    v = (rng.standard_normal(n) * 10.0 ** rng.uniform(-4, 0, n)).astype(np.float16).view(np.uint16)
    edge = rng.random(n) < 0.3
    v[edge] = rng.choice(EDGE_F16, size=int(edge.sum()))
    return v


def random_blocks(qtype, n_blocks):
    _, type_size = gguf.GGML_QUANT_SIZES[qtype]
    b = rng.integers(0, 256, size=(n_blocks, type_size), dtype=np.uint8)
    for off in SCALE_OFFSETS[qtype]:
        bits = random_scale_bits(n_blocks)
        b[:, off] = bits & 0xFF
        b[:, off + 1] = bits >> 8
    # block 0: all quant bytes 0x00, block 1: all 0xFF (extreme codes)
    quant_bytes = [i for i in range(type_size) if i not in SCALE_OFFSETS[qtype] and i - 1 not in SCALE_OFFSETS[qtype]]
    b[0, quant_bytes] = 0x00
    b[1, quant_bytes] = 0xFF
    if qtype == T.MXFP4:  # e8m0 exponent: include the extremes
        b[2:7, 0] = [0, 1, 2, 254, 255]
    return b


def plain_values(qtype, n):
    if qtype == T.F32:
        v = rng.standard_normal(n).astype(np.float32).view(np.uint32)
        v[:8] = [0x00000000, 0x80000000, 0x00000001, 0x7F7FFFFF, 0x7F800000, 0xFF800000, 0x7FC00000, 0x7F800001]
        return v.view(np.uint8)
    v = rng.integers(0, 1 << 16, size=n, dtype=np.uint16)
    if qtype == T.F16:
        v[:12] = [0x0000, 0x8000, 0x0001, 0x03FF, 0x0400, 0x7BFF, 0x7C00, 0xFC00, 0x7E00, 0xFE00, 0x7C01, 0x3C00]
    else:  # BF16
        v[:10] = [0x0000, 0x8000, 0x0001, 0x007F, 0x0080, 0x7F7F, 0x7F80, 0xFF80, 0x7FC0, 0x7F81]
    return v.view(np.uint8)


def write_dequant():
    types = [T.F32, T.F16, T.BF16, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0, T.Q2_K, T.Q3_K, T.Q4_K,
             T.Q5_K, T.Q6_K, T.IQ4_NL, T.IQ4_XS, T.TQ1_0, T.TQ2_0, T.MXFP4]
    recs = []
    for qt in types:
        block_size, _ = gguf.GGML_QUANT_SIZES[qt]
        if block_size == 1:
            raw = plain_values(qt, 1024)
        else:
            n_blocks = 12 if block_size == 256 else 64
            raw = random_blocks(qt, n_blocks).reshape(-1)
        out = gguf.quants.dequantize(raw.reshape(1, -1), qt).astype(np.float32, copy=False).reshape(-1)
        recs.append(struct.pack("<III", int(qt), out.size, raw.size) + raw.tobytes() + out.tobytes())
    with open(f"{OUT}/dequant.bin", "wb") as f:
        f.write(b"G4DQ" + struct.pack("<I", len(recs)) + b"".join(recs))


def quant_inputs(n_blocks):
    """Blocks of varied scale plus edge cases: all zero, constant, +-ties for
    the largest magnitude, exact half steps, tiny and huge values."""
    x = rng.standard_normal((n_blocks, 32)) * 10.0 ** rng.uniform(-6, 3, (n_blocks, 1))
    x[0] = 0
    x[1] = 0.75
    x[2] = np.where(np.arange(32) % 2 == 0, 3.0, -3.0)
    x[3] = (np.arange(32) - 16) * 0.5
    x[4] = (np.arange(32) - 15.5) * 1e-35  # tiny but 1/d stays finite (the reference is undefined otherwise)
    x[5] = rng.standard_normal(32) * 1e30
    x[6, :] = rng.standard_normal(32)
    x[6, 7] = -x[6].__abs__().max() * 2  # negative extreme
    return x.astype(np.float32)


def write_quant():
    recs = []
    for qt in [T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0]:
        x = quant_inputs(64).reshape(-1)
        with np.errstate(over="ignore"):
            q = gguf.quants.quantize(x.reshape(1, -1), qt).reshape(-1)
        recs.append(struct.pack("<III", int(qt), x.size, q.size) + x.tobytes() + q.tobytes())
    with open(f"{OUT}/quant.bin", "wb") as f:
        f.write(b"G4QT" + struct.pack("<I", len(recs)) + b"".join(recs))


def write_meta_v3():
    w = gguf.GGUFWriter(f"{OUT}/meta_v3.gguf", arch="g4test")
    w.add_custom_alignment(64)
    w.add_uint8("t.u8", 200)
    w.add_int8("t.i8", -100)
    w.add_uint16("t.u16", 60000)
    w.add_int16("t.i16", -30000)
    w.add_uint32("t.u32", 4000000000)
    w.add_int32("t.i32", -2000000000)
    w.add_float32("t.f32", 1.5)
    w.add_bool("t.bool", True)
    w.add_bool("t.bool_false", False)
    w.add_string("t.str", "h\u00e9llo")
    w.add_uint64("t.u64", 2**63 + 5)
    w.add_int64("t.i64", -(2**62))
    w.add_float64("t.f64", 0.1)
    arrays = [
        ("t.arr_u8", V.UINT8, [1, 2, 255]), ("t.arr_i8", V.INT8, [-128, 0, 127]),
        ("t.arr_u16", V.UINT16, [65535, 1]), ("t.arr_i16", V.INT16, [-32768, 32767]),
        ("t.arr_u32", V.UINT32, [4294967295, 7]), ("t.arr_i32", V.INT32, [-5, 6, -7]),
        ("t.arr_f32", V.FLOAT32, [0.25, -2.0]), ("t.arr_bool", V.BOOL, [True, False, True]),
        ("t.arr_str", V.STRING, ["a", "", "\u00fcn\u00ef", "last"]),
        ("t.arr_u64", V.UINT64, [2**64 - 1, 3]), ("t.arr_i64", V.INT64, [-(2**63), 9]),
        ("t.arr_f64", V.FLOAT64, [1e300, -0.5]),
    ]
    for key, sub, val in arrays:
        w.add_key_value(key, val, V.ARRAY, sub_type=sub)
    w.add_tensor("w.f32", np.arange(12, dtype=np.float32).reshape(3, 4))
    w.add_tensor("w.f16", (np.arange(8, dtype=np.float32) / 4 - 1).astype(np.float16).reshape(2, 2, 2))
    x = (np.arange(128, dtype=np.float32) / 16 - 4).reshape(2, 64)
    w.add_tensor("w.q8_0", gguf.quants.quantize(x, T.Q8_0), raw_dtype=T.Q8_0)
    w.add_tensor("w.q4_k", random_blocks(T.Q4_K, 2).reshape(1, 2, 144), raw_dtype=T.Q4_K)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    r = gguf.GGUFReader(f"{OUT}/meta_v3.gguf")  # the expected values used by test_gguf.c
    with open(f"{OUT}/meta_v3.expect", "w") as f:
        for t in r.tensors:
            vals = gguf.quants.dequantize(t.data, t.tensor_type).reshape(-1)
            f.write(f"{t.name} {int(t.tensor_type)} {' '.join(str(int(d)) for d in t.shape)} "
                    f"{t.data_offset} {' '.join(v.hex() for v in vals.astype(np.float64))}\n")


def write_small_v2():
    path = f"{OUT}/small_v2.gguf"
    w = gguf.GGUFWriter(path, arch="tiny")
    w.add_uint32("tiny.n", 7)
    w.add_key_value("tiny.names", ["x", "yz"], V.ARRAY, sub_type=V.STRING)
    w.add_float32("tiny.eps", 1e-6)
    w.add_tensor("a", np.array([1, 2, 3, 4], dtype=np.float32))
    x = np.linspace(-1, 1, 32, dtype=np.float32).reshape(1, 32)
    w.add_tensor("b", gguf.quants.quantize(x, T.Q8_0), raw_dtype=T.Q8_0)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    with open(path, "r+b") as f:
        f.seek(4)
        f.write(struct.pack("<I", 2))


def write_gemma3(model):
    r = gguf.GGUFReader(model)
    n_kv = sum(1 for k in r.fields if not k.startswith("GGUF."))
    by_type = {}
    for t in r.tensors:
        by_type.setdefault(int(t.tensor_type), []).append(t)
    chosen = []
    for ty in sorted(by_type):
        ts = by_type[ty]
        chosen += [ts[0], ts[-1]] if len(ts) > 1 else ts[:1]
    if not any(t.name == "token_embd.weight" for t in chosen):
        chosen.append(next(t for t in r.tensors if t.name == "token_embd.weight"))
    recs = []
    for t in chosen:
        data = t.data.reshape(t.data.shape[0] if t.data.ndim > 1 else 1, -1)
        s = []
        sa = []
        first = None
        for i in range(0, data.shape[0], 4096):
            v = gguf.quants.dequantize(np.asarray(data[i:i + 4096]), t.tensor_type).astype(np.float64).reshape(-1)
            if first is None:
                first = v[:512].astype(np.float32)
            s.append(math.fsum(v))
            sa.append(math.fsum(np.abs(v)))
        name = t.name.encode()
        recs.append(struct.pack("<I", len(name)) + name + struct.pack("<IQdd", int(t.tensor_type), int(t.n_elements),
                                                                       math.fsum(s), math.fsum(sa))
                    + struct.pack("<I", first.size) + first.tobytes())
    with open(f"{OUT}/gemma3_270m.bin", "wb") as f:
        f.write(b"G4GM" + struct.pack("<III", len(r.tensors), n_kv, len(recs)) + b"".join(recs))


def main():
    os.makedirs(OUT, exist_ok=True)
    write_dequant()
    write_quant()
    write_meta_v3()
    write_small_v2()
    model = sys.argv[1] if len(sys.argv) > 1 else os.path.expanduser("~/.cache/g4/gemma-3-270m-q4_k_m.gguf")
    write_gemma3(model)


if __name__ == "__main__":
    main()
