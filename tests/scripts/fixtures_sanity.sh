#!/bin/sh
# Consistency check of the committed reference fixtures (tests/fixtures/models,
# tests/fixtures/llamacpp).  Needs only python3 + numpy + gguf (what CI's
# scripts/setup.sh --test installs).  It checks that every GGUF tensor equals
# the safetensors tensor it was converted from under the transforms listed in
# docs/fixtures.md (exactly for F32, within Q8_0 rounding for Q8_0), that the
# logits files have the documented sizes, and that greedy tokens are the argmax
# of the stored per-step logits (suppress_tokens applied).  Prints one
# "PASS fixtures_sanity" line, or one "FAIL ..." line per problem (exit 1),
# as tests/run.sh expects.
set -eu
cd "$(dirname "$0")/../.."
exec python3 - "$@" <<'PY'
import json, os, re, struct, sys
import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize

ROOT = "tests/fixtures/models"
fails = []

def fail(msg):
    fails.append(msg)

def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        hdr = json.loads(f.read(n))
        base = 8 + n
        data = f.read()
    out = {}
    for k, v in hdr.items():
        if k == "__metadata__":
            continue
        a, b = v["data_offsets"]
        raw = data[a:b]
        if v["dtype"] == "F32":
            arr = np.frombuffer(raw, "<f4")
        elif v["dtype"] == "BF16":
            arr = (np.frombuffer(raw, "<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            raise SystemExit(f"{path}: dtype {v['dtype']}")
        out[k] = arr.reshape(v["shape"])
    return out

LAYER = {
    "input_layernorm.weight": "attn_norm.weight",
    "post_attention_layernorm.weight": "post_attention_norm.weight",
    "pre_feedforward_layernorm.weight": "ffn_norm.weight",
    "post_feedforward_layernorm.weight": "post_ffw_norm.weight",
    "pre_feedforward_layernorm_2.weight": "pre_ffw_norm_2.weight",
    "post_feedforward_layernorm_1.weight": "post_ffw_norm_1.weight",
    "post_feedforward_layernorm_2.weight": "post_ffw_norm_2.weight",
    "self_attn.q_proj.weight": "attn_q.weight",
    "self_attn.k_proj.weight": "attn_k.weight",
    "self_attn.v_proj.weight": "attn_v.weight",
    "self_attn.o_proj.weight": "attn_output.weight",
    "self_attn.q_norm.weight": "attn_q_norm.weight",
    "self_attn.k_norm.weight": "attn_k_norm.weight",
    "mlp.gate_proj.weight": "ffn_gate.weight",
    "mlp.up_proj.weight": "ffn_up.weight",
    "mlp.down_proj.weight": "ffn_down.weight",
    "layer_scalar": "layer_output_scale.weight",
    "per_layer_input_gate.weight": "inp_gate.weight",
    "per_layer_projection.weight": "proj.weight",
    "post_per_layer_input_norm.weight": "post_norm.weight",
    "router.proj.weight": "ffn_gate_inp.weight",
    "router.scale": "ffn_gate_inp.scale",
    "router.per_expert_scale": "ffn_down_exps.scale",
    "experts.gate_up_proj": "ffn_gate_up_exps.weight",
    "experts.down_proj": "ffn_down_exps.weight",
}
GLOBAL = {
    "model.embed_tokens.weight": "token_embd.weight",
    "model.norm.weight": "output_norm.weight",
    "model.embed_tokens_per_layer.weight": "per_layer_token_embd.weight",
    "model.per_layer_model_projection.weight": "per_layer_model_proj.weight",
    "model.per_layer_projection_norm.weight": "per_layer_proj_norm.weight",
}

def gguf_name(hf):
    if hf in GLOBAL:
        return GLOBAL[hf]
    m = re.match(r"model\.layers\.(\d+)\.(.*)$", hf)
    if m and m.group(2) in LAYER:
        return f"blk.{m.group(1)}.{LAYER[m.group(2)]}"
    return None

def check_gguf(d, gpath, st, cfg, is_q8):
    r = GGUFReader(gpath)
    g = {t.name: t for t in r.tensors}
    arch = r.fields["general.architecture"].contents()
    seen = set()
    for hf, w in st.items():
        name = gguf_name(hf)
        if name is None:
            fail(f"{gpath}: no GGUF name for {hf}")
            continue
        if name not in g:
            fail(f"{gpath}: missing {name} (from {hf})")
            continue
        seen.add(name)
        t = g[name]
        want = w.astype(np.float32)
        if arch == "gemma3" and hf.endswith("norm.weight"):
            want = want + np.float32(1.0)          # Gemma3Model.norm_shift
        shape = tuple(int(x) for x in reversed(t.shape.tolist()))   # GGUF ne[] is reversed
        if shape != tuple(want.shape) and not (want.ndim == 1 and shape == want.shape):
            fail(f"{gpath}: {name} shape {shape} != {want.shape}")
            continue
        if t.tensor_type.name == "F32":
            got = np.asarray(t.data, dtype=np.float32).reshape(want.shape)
            if not np.array_equal(got, want):
                fail(f"{gpath}: {name} differs from {hf}")
        elif t.tensor_type.name == "BF16":
            got = dequantize(t.data, t.tensor_type).reshape(want.shape)
            if not np.array_equal(got, want):
                fail(f"{gpath}: {name} (BF16) differs from {hf}")
        elif t.tensor_type.name == "Q8_0" and is_q8:
            got = dequantize(t.data, t.tensor_type).reshape(want.shape)
            # Q8_0: per block of 32, d = max|x|/127 (stored f16), q = round(x/d)
            blk = np.abs(want.reshape(-1, 32)).max(axis=1, keepdims=True) / 127.0
            err = np.abs(got.reshape(-1, 32) - want.reshape(-1, 32))
            if np.any(err > 0.57 * blk + 1e-7):   # half a step + f16 rounding of d (127 * 2^-11 * d)
                fail(f"{gpath}: {name} Q8_0 error beyond half a step")
        else:
            fail(f"{gpath}: {name} unexpected type {t.tensor_type.name}")
    extra = set(g) - seen
    if extra != {"rope_freqs.weight"} and not (arch == "gemma3" and not extra):
        fail(f"{gpath}: unexpected extra tensors {sorted(extra)}")
    if "rope_freqs.weight" in g:
        rf = np.asarray(g["rope_freqs.weight"].data, dtype=np.float32)
        gh = [v["head_dim"] for v in cfg["per_layer_config"].values()][0]
        n_rot = int(gh * cfg["rope_parameters"]["full_attention"]["partial_rotary_factor"] / 2)
        want = np.array([1.0] * n_rot + [1e30] * (gh // 2 - n_rot), dtype=np.float32)
        if not np.array_equal(rf, want):
            fail(f"{gpath}: rope_freqs {rf} != {want}")

def check_model(d):
    meta = json.load(open(os.path.join(d, "meta.json")))
    cfg = json.load(open(os.path.join(d, "config.json")))
    ids = json.load(open(os.path.join(d, "input_ids.json")))
    V, T = meta["vocab_size"], meta["seq_len"]
    if len(ids) != T or cfg["vocab_size"] != V:
        fail(f"{d}: seq_len/vocab mismatch")
    lg = np.fromfile(os.path.join(d, meta["logits_file"]), "<f4")
    if lg.size != T * V:
        fail(f"{d}: {meta['logits_file']} has {lg.size} floats, want {T}*{V}")
    gr = json.load(open(os.path.join(d, "greedy.json")))
    gl_name = "greedy_logits_f32.bin"
    if meta["dtype"] == "bfloat16":     # no per-step logits for the bf16 copies
        gl = np.zeros((0, V), np.float32)
    else:
        gl = np.fromfile(os.path.join(d, gl_name), "<f4").reshape(-1, V)
    if meta["dtype"] != "bfloat16" and gl.shape[0] != len(gr["tokens"]):
        fail(f"{d}: {gl_name} rows {gl.shape[0]} != {len(gr['tokens'])} tokens")
    for i, tok in enumerate(gr["tokens"][:gl.shape[0]]):
        row = gl[i].astype(np.float64).copy()
        row[gr["suppress_tokens"]] = -np.inf
        if int(np.argmax(row)) != tok:
            fail(f"{d}: greedy step {i} argmax != {tok}")
    if gr["prompt_ids"] != ids[:len(gr["prompt_ids"])]:
        fail(f"{d}: greedy prompt is not a prefix of input_ids")
    st = load_safetensors(os.path.join(d, "model.safetensors"))
    if meta["dtype"] == "bfloat16":
        # the BF16 copy must hold exactly the F32 model's weights (bf16-exact values)
        ref = load_safetensors(os.path.join(d, "..", os.path.basename(d)[:-len("_bf16")], "model.safetensors"))
        if sorted(ref) != sorted(st) or any(not np.array_equal(ref[k], st[k]) for k in st):
            fail(f"{d}: BF16 weights differ from the F32 model's")
    for gname, info in (meta.get("gguf") or {}).items():
        check_gguf(d, os.path.join(d, gname), st, cfg, info["outtype"] == "q8_0")
        if "logits_file" in info:
            n = os.path.getsize(os.path.join(d, info["logits_file"])) // 4
            if n != T * V:
                fail(f"{d}: {info['logits_file']} has {n} floats, want {T}*{V}")

for name in sorted(os.listdir(ROOT)):
    check_model(os.path.join(ROOT, name))

L = "tests/fixtures/llamacpp"
if os.path.isdir(L) and os.path.exists(os.path.join(L, "teacher.json")):
    tok = json.load(open(os.path.join(L, "tokens.json")))
    te = json.load(open(os.path.join(L, "teacher.json")))
    if len(te["top1"]) != tok["n_tokens"] or len(te["logprob_next"]) != tok["n_tokens"] - 1:
        fail("llamacpp/teacher.json lengths")
    with open(os.path.join(L, "teacher_top.bin"), "rb") as f:
        magic, npos, k, nv = struct.unpack("<4sIII", f.read(16))
        if magic != b"G4TK":
            fail("teacher_top.bin magic")
        for _ in range(npos):
            p = struct.unpack("<I", f.read(4))[0]
            idx = np.frombuffer(f.read(4 * k), "<i4")
            val = np.frombuffer(f.read(4 * k), "<f4")
            if idx[0] != te["top1"][p] or np.any(np.diff(val) > 0):
                fail(f"teacher_top.bin position {p} inconsistent with teacher.json")
        if f.read(1):
            fail("teacher_top.bin trailing bytes")

if fails:
    print("\n".join("FAIL " + f for f in fails))
    sys.exit(1)
print("PASS fixtures_sanity")
PY
