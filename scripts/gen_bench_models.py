#!/usr/bin/env python3
"""Benchmark model files: random-weight GGUFs in the exact shapes of real models.

Writes, into a cache directory (default ~/.cache/g4/bench/, never committed):
  gemma3-1b-{f16,q4_0,q4_k_m,q8_0}.gguf   arch gemma3, the shapes of Gemma 3 1B
  gemma4-12b-{f16,q4_0,q4_k_m,q8_0}.gguf  arch gemma4, the shapes of Gemma 4 12B
                                          (text decoder of gemma4-spec.md §7.1)
The F16 file is written streaming (a pool of normal*0.02 values is tiled at
random offsets, so nothing model-sized is held in RAM), then llama.cpp's own
quantizer (llama_cpp.llama_model_quantize) makes Q4_0, Q4_K_M and Q8_0, so the
quantized tensor types are exactly what llama.cpp picks for each ftype.
Metadata keys and tensor names are those of llama.cpp's converter
(convert_hf_to_gguf.py Gemma3Model / Gemma4Model, mirrored for gemma4 by
scripts/gen_hf_fixtures.py gguf_from_dir); the tokenizer metadata (262144
tokens) is copied from the real Gemma 3 270M GGUF. Weights are random, so the
text is nonsense: these files are for speed and memory measurements only.

usage: gen_bench_models.py [--out DIR] [--models gemma3-1b,gemma4-12b]
                           [--quants q4_0,q4_k_m,q8_0] [--keep-f16] [--tiny]
--tiny writes 2-layer, narrow versions of both (fast loader checks).
"""
import argparse
import ctypes
import os
import sys
import time

import numpy as np
import gguf

FTYPES = {"q4_0": 2, "q8_0": 7, "q4_k_m": 15}
POOL_SIZE = 1 << 24  # 16M values (32 MB of F16) tiled into every weight matrix


class Pool:
    """Streams pseudo-random F16 values: slices of a fixed normal*0.02 pool at random offsets."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.pool = (self.rng.standard_normal(POOL_SIZE, dtype=np.float32) * 0.02).astype(np.float16)

    def chunks(self, n, chunk=1 << 22):
        left = n
        while left > 0:
            k = min(chunk, left)
            off = int(self.rng.integers(0, POOL_SIZE - k + 1))
            yield self.pool[off:off + k]
            left -= k


class Lazy:
    """Duck-typed array for GGUFWriter.write_tensor_data: nbytes + tofile(), written in chunks."""

    def __init__(self, nbytes, gen):
        self.nbytes = nbytes
        self.gen = gen

    def tofile(self, f):
        for c in self.gen():
            c.tofile(f)


def copy_tokenizer(w, src):
    r = gguf.GGUFReader(src)
    f = r.fields
    tokens = [bytes(f["tokenizer.ggml.tokens"].parts[i]) for i in f["tokenizer.ggml.tokens"].data]
    scores = [float(f["tokenizer.ggml.scores"].parts[i][0]) for i in f["tokenizer.ggml.scores"].data]
    types = [int(f["tokenizer.ggml.token_type"].parts[i][0]) for i in f["tokenizer.ggml.token_type"].data]
    w.add_tokenizer_model("llama")
    w.add_tokenizer_pre("default")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_bos_token_id(2)
    w.add_eos_token_id(1)
    w.add_unk_token_id(3)
    w.add_pad_token_id(0)
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)
    w.add_add_space_prefix(False)
    return len(tokens)


def gemma3_1b(tiny):
    # google/gemma-3-1b-pt config.json
    c = dict(n_layer=26, n_embd=1152, n_head=4, n_kv=1, hd=256, n_ff=6912, window=512)
    if tiny:
        c.update(n_layer=2, n_embd=256, n_ff=512)
    return c


def gemma4_12b(tiny):
    # gemma4-spec.md §1.2 / §7.1
    c = dict(n_layer=48, n_embd=3840, n_head=16, n_kv_swa=8, hd_swa=256, n_kv_full=1, hd_full=512,
             n_ff=15360, window=1024)
    if tiny:
        c.update(n_layer=6, n_embd=256, n_ff=512)
    return c


def write_gemma3(path, tok_src, tiny, pool):
    c = gemma3_1b(tiny)
    w = gguf.GGUFWriter(path, "gemma3")
    w.add_name("g4 bench gemma3 1B shape (random weights)")
    w.add_file_type(1)  # MOSTLY_F16
    w.add_context_length(32768)
    w.add_embedding_length(c["n_embd"])
    w.add_block_count(c["n_layer"])
    w.add_feed_forward_length(c["n_ff"])
    w.add_head_count(c["n_head"])
    w.add_head_count_kv(c["n_kv"])
    w.add_layer_norm_rms_eps(1e-6)
    w.add_key_length(c["hd"])
    w.add_value_length(c["hd"])
    w.add_rope_freq_base(1e6)
    w.add_sliding_window(c["window"])
    n_vocab = copy_tokenizer(w, tok_src)
    E, F, H, KV, D = c["n_embd"], c["n_ff"], c["n_head"], c["n_kv"], c["hd"]
    t = [("token_embd.weight", (n_vocab, E), "w"), ("output_norm.weight", (E,), "norm")]
    for i in range(c["n_layer"]):
        b = f"blk.{i}."
        t += [(b + "attn_norm.weight", (E,), "norm"), (b + "attn_q.weight", (H * D, E), "w"),
              (b + "attn_k.weight", (KV * D, E), "w"), (b + "attn_v.weight", (KV * D, E), "w"),
              (b + "attn_q_norm.weight", (D,), "norm"), (b + "attn_k_norm.weight", (D,), "norm"),
              (b + "attn_output.weight", (E, H * D), "w"), (b + "post_attention_norm.weight", (E,), "norm"),
              (b + "ffn_norm.weight", (E,), "norm"), (b + "ffn_gate.weight", (F, E), "w"),
              (b + "ffn_up.weight", (F, E), "w"), (b + "ffn_down.weight", (E, F), "w"),
              (b + "post_ffw_norm.weight", (E,), "norm")]
    finish(w, t, pool, {})


def write_gemma4(path, tok_src, tiny, pool):
    c = gemma4_12b(tiny)
    n = c["n_layer"]
    full = [(i + 1) % 6 == 0 for i in range(n)]
    full[-1] = True
    w = gguf.GGUFWriter(path, "gemma4")
    w.add_name("g4 bench gemma4 12B shape (random weights)")
    w.add_file_type(1)
    w.add_context_length(262144)
    w.add_embedding_length(c["n_embd"])
    w.add_block_count(n)
    w.add_feed_forward_length(c["n_ff"])
    w.add_head_count(c["n_head"])
    w.add_head_count_kv([c["n_kv_full"] if f else c["n_kv_swa"] for f in full])
    w.add_layer_norm_rms_eps(1e-6)
    w.add_rope_freq_base(1e6)
    w.add_rope_freq_base_swa(1e4)
    w.add_final_logit_softcapping(30.0)
    w.add_sliding_window(c["window"])
    w.add_shared_kv_layers(0)
    w.add_embedding_length_per_layer_input(0)
    w.add_sliding_window_pattern([not f for f in full])
    w.add_key_length(c["hd_full"])
    w.add_value_length(c["hd_full"])
    w.add_key_length_swa(c["hd_swa"])
    w.add_value_length_swa(c["hd_swa"])
    w.add_rope_dimension_count(c["hd_full"])
    w.add_rope_dimension_count_swa(c["hd_swa"])
    n_vocab = copy_tokenizer(w, tok_src)
    E, F, H = c["n_embd"], c["n_ff"], c["n_head"]
    t = [("token_embd.weight", (n_vocab, E), "w"), ("output_norm.weight", (E,), "norm")]
    for i in range(n):
        b = f"blk.{i}."
        kv, d = (c["n_kv_full"], c["hd_full"]) if full[i] else (c["n_kv_swa"], c["hd_swa"])
        t += [(b + "attn_norm.weight", (E,), "norm"), (b + "attn_q.weight", (H * d, E), "w"),
              (b + "attn_k.weight", (kv * d, E), "w")]
        if not full[i]:  # full layers: K = V, no attn_v (attention_k_eq_v)
            t += [(b + "attn_v.weight", (kv * d, E), "w")]
        t += [(b + "attn_q_norm.weight", (d,), "norm"), (b + "attn_k_norm.weight", (d,), "norm"),
              (b + "attn_output.weight", (E, H * d), "w"), (b + "post_attention_norm.weight", (E,), "norm"),
              (b + "ffn_norm.weight", (E,), "norm"), (b + "ffn_gate.weight", (F, E), "w"),
              (b + "ffn_up.weight", (F, E), "w"), (b + "ffn_down.weight", (E, F), "w"),
              (b + "post_ffw_norm.weight", (E,), "norm"), (b + "layer_output_scale.weight", (1,), "scale")]
    # proportional RoPE on global layers: partial_rotary_factor 0.25 -> 64 of 256 pairs rotate
    n_rot = c["hd_full"] // 8
    rope = np.array([1.0] * n_rot + [1e30] * (c["hd_full"] // 2 - n_rot), dtype=np.float32)
    t.append(("rope_freqs.weight", rope.shape, "fixed"))
    finish(w, t, pool, {"rope_freqs.weight": rope})


def finish(w, tensors, pool, fixed):
    for name, shape, kind in tensors:
        if kind == "w":
            w.add_tensor_info(name, shape, np.dtype(np.float16), int(np.prod(shape)) * 2)
        else:
            w.add_tensor_info(name, shape, np.dtype(np.float32), int(np.prod(shape)) * 4)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()
    for name, shape, kind in tensors:
        n = int(np.prod(shape))
        if kind == "w":
            w.write_tensor_data(Lazy(n * 2, lambda n=n: pool.chunks(n)))
        elif kind == "norm":  # norms ~1 (llama.cpp stores Gemma 3's 1+w; Gemma 4 stores w directly)
            w.write_tensor_data((1.0 + 0.05 * pool.rng.standard_normal(n)).astype(np.float32))
        elif kind == "scale":
            w.write_tensor_data(np.ones(n, dtype=np.float32))
        else:
            w.write_tensor_data(fixed[name])
    w.close()


def quantize(src, dst, ftype, nthread):
    import llama_cpp
    p = llama_cpp.llama_model_quantize_default_params()
    p.ftype = ftype
    p.nthread = nthread
    rc = llama_cpp.llama_model_quantize(src.encode(), dst.encode(), ctypes.byref(p))
    if rc != 0:
        raise SystemExit(f"llama_model_quantize {src} -> {dst} failed ({rc})")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")),
                                                 "g4", "bench"))
    ap.add_argument("--models", default="gemma3-1b,gemma4-12b")
    ap.add_argument("--quants", default="q4_0,q4_k_m,q8_0")
    ap.add_argument("--tokenizer", default=os.path.expanduser("~/.cache/g4/gemma-3-270m-q4_k_m.gguf"),
                    help="GGUF whose tokenizer metadata is copied (262144 tokens)")
    ap.add_argument("--keep-f16", action="store_true", help="keep the F16 file after quantizing")
    ap.add_argument("--tiny", action="store_true", help="2-6 layer narrow versions (loader checks)")
    ap.add_argument("--threads", type=int, default=2, help="quantizer threads")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    writers = {"gemma3-1b": write_gemma3, "gemma4-12b": write_gemma4}
    for m in a.models.split(","):
        base = os.path.join(a.out, m + ("-tiny" if a.tiny else ""))
        f16 = base + "-f16.gguf"
        todo = [q for q in a.quants.split(",") if q and not os.path.exists(f"{base}-{q}.gguf")]
        if not todo and not a.keep_f16:
            print(f"{m}: all files present", flush=True)
            continue
        if not os.path.exists(f16):
            t0 = time.time()
            writers[m](f16 + ".part", a.tokenizer, a.tiny, Pool(1234))
            os.rename(f16 + ".part", f16)
            print(f"{f16}: {os.path.getsize(f16) / 1e9:.2f} GB in {time.time() - t0:.0f} s", flush=True)
        for q in todo:
            t0 = time.time()
            dst = f"{base}-{q}.gguf"
            quantize(f16, dst + ".part", FTYPES[q], a.threads)
            os.rename(dst + ".part", dst)
            print(f"{dst}: {os.path.getsize(dst) / 1e9:.2f} GB in {time.time() - t0:.0f} s", flush=True)
        if not a.keep_f16:
            os.remove(f16)


if __name__ == "__main__":
    sys.exit(main())
