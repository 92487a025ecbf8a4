#!/usr/bin/env python3
"""Generate tiny random-weight Gemma 3 / Gemma 4 reference models and their outputs.

For every model in MODELS this writes tests/fixtures/models/NAME/ with the HF
checkpoint (config.json, generation_config.json, F32 model.safetensors), the
input ids, HF logits at every position (raw little-endian float32 [T][V]),
32 greedy tokens from HF generate(), and meta.json (versions, seed, measured
float64-vs-float32 spread, suggested tolerances).  Optional NAME_bf16/ holds a
BF16 copy whose logits were computed by HF in bfloat16.  With --llama-cpp DIR
the same weights are also written as GGUF by llama.cpp's own converter code
(convert_hf_to_gguf.py / conversion/gemma.py of that checkout), see
docs/fixtures.md for every transform it applies.

The reference is HF transformers (eager attention, CPU).  Everything is seeded
and deterministic; rerunning with the pinned versions reproduces the files
bit-for-bit (safetensors) and to float32 rounding (logits, on another CPU).

Pinned: torch 2.15.0, transformers 5.24.0, safetensors 0.8.0, llama.cpp
0c1e57098bba43ac29e6e3b677cdceebdd22334f (vendored in llama-cpp-python 0.3.36).
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
import transformers
from transformers import GenerationConfig

PINNED = {"torch": "2.15.0", "transformers": "5.24.0", "safetensors": "0.8.0"}
LLAMA_CPP_COMMIT = "0c1e57098bba43ac29e6e3b677cdceebdd22334f"

VOCAB = 256
SEQ_LEN = 48          # > 2 x sliding window (16) so the window really slides
PROMPT_LEN = 16       # greedy prompt = input_ids[:PROMPT_LEN]
N_GREEDY = 32
# Same structure as the real IT generation configs (eos [1,106,50]); the
# suppressed ids stand in for EOI/EOA (258883, 258882), which are out of range.
EOS_IDS = [1, 106, 50]
SUPPRESS_IDS = [255, 254]


def gemma4_common(**kw):
    base = dict(
        vocab_size=VOCAB, hidden_size=32, intermediate_size=32,
        num_attention_heads=4, num_key_value_heads=2, head_dim=16,
        global_head_dim=32, sliding_window=16, max_position_embeddings=4096,
        rms_norm_eps=1e-6, final_logit_softcapping=30.0,
        hidden_activation="gelu_pytorch_tanh", tie_word_embeddings=True,
        pad_token_id=0, bos_token_id=2, eos_token_id=1,
        attn_implementation="eager", experts_implementation="eager",
    )
    base.update(kw)
    return base


def make_config(name):
    """Return (model_class, config) for one fixture model."""
    if name == "gemma3_text":
        from transformers import Gemma3ForCausalLM, Gemma3TextConfig
        cfg = Gemma3TextConfig(
            vocab_size=VOCAB, hidden_size=32, intermediate_size=32,
            num_hidden_layers=12, num_attention_heads=4, num_key_value_heads=2,
            head_dim=16, query_pre_attn_scalar=16, sliding_window=16,
            max_position_embeddings=4096, rms_norm_eps=1e-6,
            final_logit_softcapping=None, attn_logit_softcapping=None,
            rope_parameters={
                "sliding_attention": {"rope_type": "default", "rope_theta": 10000.0},
                "full_attention": {"rope_type": "default", "rope_theta": 1000000.0},
            },
            pad_token_id=0, bos_token_id=2, eos_token_id=1,
            tie_word_embeddings=True, attn_implementation="eager")
        return Gemma3ForCausalLM, cfg
    if name == "gemma4_unified":
        # 12B structure: 5:1, global layers 1 KV head x 2*head_dim, K=V, no PLE.
        from transformers import Gemma4UnifiedForCausalLM
        from transformers.models.gemma4_unified.configuration_gemma4_unified import Gemma4UnifiedTextConfig
        cfg = Gemma4UnifiedTextConfig(**gemma4_common(
            num_hidden_layers=12, attention_k_eq_v=True,
            num_global_key_value_heads=1, use_bidirectional_attention="vision"))
        return Gemma4UnifiedForCausalLM, cfg
    from transformers import Gemma4ForCausalLM, Gemma4TextConfig
    if name == "gemma4_e2b":
        # E2B structure: 4:1 pattern (period 5), PLE, KV sharing, double-wide
        # MLP in the KV-shared layers, no K=V, 1 KV head everywhere.  As in the
        # real E2B (layers 15..34 shared, 13 = S and 14 = F the producers), the
        # last non-shared layer is a full one: layers 5..9 reuse 3 (S) / 4 (F).
        # llama.cpp assumes exactly that order (it aborts on the reverse).
        layer_types = ["full_attention" if (i + 1) % 5 == 0 else "sliding_attention" for i in range(10)]
        cfg = Gemma4TextConfig(**gemma4_common(
            num_hidden_layers=10, layer_types=layer_types, num_key_value_heads=1,
            intermediate_size=32, hidden_size_per_layer_input=8,
            vocab_size_per_layer_input=VOCAB, num_kv_shared_layers=5,
            use_double_wide_mlp=True, attention_k_eq_v=False))
        return Gemma4ForCausalLM, cfg
    if name == "gemma4_moe":
        # 26B-A4B structure: dense shared MLP + routed experts (top-k), K=V, 2 global KV heads.
        cfg = Gemma4TextConfig(**gemma4_common(
            num_hidden_layers=12, intermediate_size=32, hidden_size_per_layer_input=0,
            attention_k_eq_v=True, num_global_key_value_heads=1,
            enable_moe_block=True, num_experts=4, top_k_experts=2,
            moe_intermediate_size=8, use_bidirectional_attention="vision"))
        return Gemma4ForCausalLM, cfg
    if name == "gemma4_31b":
        # 31B structure: dense, 5:1, K=V, several global KV heads (31B: 4 global, 16 sliding).
        cfg = Gemma4TextConfig(**gemma4_common(
            num_hidden_layers=12, hidden_size_per_layer_input=0,
            attention_k_eq_v=True, num_global_key_value_heads=2,
            use_bidirectional_attention="vision"))
        return Gemma4ForCausalLM, cfg
    raise SystemExit(f"unknown model {name}")


MODELS = ["gemma3_text", "gemma4_unified", "gemma4_e2b", "gemma4_moe", "gemma4_31b"]
BF16_MODELS = ["gemma3_text", "gemma4_unified"]
Q8_MODELS = ["gemma4_unified"]
# GGUF storage type per model.  All weights are bf16-exact (see randomize), so a
# BF16 GGUF is lossless; it halves the size (all but the primary F32 one).
GGUF_TYPE = {"gemma3_text": "bf16", "gemma4_unified": "f32", "gemma4_e2b": "bf16",
             "gemma4_moe": "bf16", "gemma4_31b": "bf16"}
SEEDS = {n: 1000 + i for i, n in enumerate(MODELS)}


def randomize(model, seed, is_gemma3):
    """Overwrite every parameter/buffer in the state dict with seeded random values.

    Scales keep activations O(1) and logits O(10): Linear ~ N(0, 1/fan_in),
    embeddings ~ N(0, 1) (so pre-softcap logits reach |x| > 10), norm weights
    ~ 1 + N(0, 0.3^2) for Gemma 4 (x*w) and N(0, 0.3^2) for Gemma 3 (x*(1+w)),
    so an implementation using the wrong convention is badly off.
    """
    g = torch.Generator().manual_seed(seed)
    sd = model.state_dict()
    done = set()
    for name in sorted(sd):
        t = sd[name]
        if t.data_ptr() in done:   # tied lm_head
            continue
        done.add(t.data_ptr())
        if not t.is_floating_point():
            continue
        shape = t.shape
        if name.endswith("layer_scalar"):
            v = 0.5 + torch.rand(shape, generator=g)                 # [0.5, 1.5)
        elif name.endswith("per_expert_scale"):
            v = 0.5 + torch.rand(shape, generator=g)
        elif name.endswith("router.scale"):
            v = 1.0 + 0.3 * torch.randn(shape, generator=g)
        elif "norm" in name and len(shape) == 1:
            # post-branch norms are larger so the layers, not the token's own
            # (tied) embedding, dominate the residual stream (else greedy repeats).
            mean = 1.0
            if ".post_" in name:
                mean = 6.0 if is_gemma3 else 3.0
            if is_gemma3 and ("q_norm" in name or "k_norm" in name):
                mean = 2.0  # Gemma 3 scales scores by 1/sqrt(16): sharpen attention a little
            v = mean + 0.3 * torch.randn(shape, generator=g)
            if is_gemma3:
                v = v - 1.0     # Gemma 3 stores w with the norm computing x*(1+w)
        elif "embed_tokens" in name or name == "lm_head.weight":
            v = torch.randn(shape, generator=g)
        elif "experts.gate_up_proj" in name or "experts.down_proj" in name:
            v = torch.randn(shape, generator=g) / np.sqrt(shape[-1])
        elif len(shape) == 2:
            v = torch.randn(shape, generator=g) / np.sqrt(shape[1])
        else:
            raise SystemExit(f"randomize: unhandled tensor {name} {tuple(shape)}")
        with torch.no_grad():
            # round to bf16-representable values: the F32 and BF16 checkpoints and
            # the GGUF copies then hold bit-identical weights.
            t.copy_(v.to(torch.bfloat16).to(t.dtype))


def write_f32(path, arr):
    np.ascontiguousarray(arr, dtype="<f4").tofile(path)


def forward_logits(model, ids):
    with torch.no_grad():
        out = model(input_ids=torch.tensor([ids]), use_cache=False)
    return out.logits[0].to(torch.float64).numpy()


def greedy(model, gen_cfg, prompt):
    with torch.no_grad():
        out = model.generate(input_ids=torch.tensor([prompt]), generation_config=gen_cfg,
                             max_new_tokens=N_GREEDY, do_sample=False,
                             output_scores=True, output_logits=True, return_dict_in_generate=True)
    toks = out.sequences[0, len(prompt):].tolist()
    raw = np.stack([l[0].to(torch.float64).numpy() for l in out.logits])
    gaps = []
    for s in out.scores:            # processed scores (suppress_tokens applied)
        top = torch.topk(s[0].to(torch.float64), 2).values
        gaps.append(float(top[0] - top[1]))
    return toks, gaps, raw


def gen_config():
    return GenerationConfig(bos_token_id=2, pad_token_id=0, eos_token_id=EOS_IDS,
                            suppress_tokens=SUPPRESS_IDS, do_sample=False)


def save_hf(model, gcfg, out_dir):
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir, safe_serialization=True)
    gcfg.save_pretrained(out_dir)


def make_tokenizer_json(path):
    """Dummy tokenizer.json so llama.cpp's converter keeps all VOCAB rows of
    token_embd (it truncates to len(vocab)+len(added_tokens))."""
    vocab = {f"<tok{i}>": i for i in range(VOCAB)}
    path.write_text(json.dumps({"model": {"type": "BPE", "vocab": vocab, "merges": []},
                                "added_tokens": []}))


def synthetic_vocab():
    """Tokens written to the GGUF vocab: ids only matter for these fixtures."""
    toks, types = [], []
    special = {0: "<pad>", 1: "<eos>", 2: "<bos>", 3: "<unk>", 50: "<|tool_response>",
               106: "<turn|>", 105: "<|turn>", 254: "<image|>", 255: "<audio|>"}
    for i in range(VOCAB):
        if i in special:
            toks.append(special[i]); types.append(3 if i != 3 else 2)   # CONTROL / UNKNOWN
        elif 4 <= i < 4 + 26:
            toks.append(chr(ord("a") + i - 4)); types.append(1)
        else:
            toks.append(f"\u2581w{i}"); types.append(1)                 # NORMAL
    return toks, types


def convert_gguf(llama_cpp, hf_dir, name, arch_name, out_path, outtype):
    """Run llama.cpp's own converter class on the saved HF dir (vocab replaced)."""
    sys.path.insert(0, str(llama_cpp))
    sys.path.insert(0, str(llama_cpp / "gguf-py"))
    import gguf  # noqa: the vendored gguf-py of that llama.cpp checkout
    from conversion import gemma as cg
    base = {"gemma3_text": cg.Gemma3Model,
            "gemma4_unified": cg.Gemma4UnifiedModel}.get(name, cg.Gemma4Model)

    class Tiny(base):
        model_arch = base.model_arch

        def set_vocab(self):
            toks, types = synthetic_vocab()
            self.gguf_writer.add_tokenizer_model("llama" if base is cg.Gemma3Model else "gemma4")
            self.gguf_writer.add_token_list(toks)
            self.gguf_writer.add_token_scores([0.0] * len(toks))
            self.gguf_writer.add_token_types(types)
            if base is not cg.Gemma3Model:
                # llama.cpp's gemma4 (BPE) vocab loader requires a merges list.
                self.gguf_writer.add_token_merges(["a b", "c d"])
            self.gguf_writer.add_bos_token_id(2)
            self.gguf_writer.add_eos_token_id(1)
            self.gguf_writer.add_unk_token_id(3)
            self.gguf_writer.add_pad_token_id(0)
            self.gguf_writer.add_add_space_prefix(False)
            self.gguf_writer.add_add_bos_token(True)

    ftype = {"f32": gguf.LlamaFileType.ALL_F32, "bf16": gguf.LlamaFileType.MOSTLY_BF16,
             "q8_0": gguf.LlamaFileType.MOSTLY_Q8_0}[outtype]
    with tempfile.TemporaryDirectory() as td:
        td = Path(td)
        for f in hf_dir.iterdir():
            shutil.copy(f, td / f.name)
        cfg = json.loads((td / "config.json").read_text())
        cfg["architectures"] = [arch_name]
        # Gemma4UnifiedTextConfig has no MoE fields but Gemma4Model.set_gguf_parameters
        # looks one up unconditionally; null means "absent" to find_hparam.
        cfg.setdefault("moe_intermediate_size", None)
        (td / "config.json").write_text(json.dumps(cfg))
        make_tokenizer_json(td / "tokenizer.json")
        with torch.inference_mode():
            m = Tiny(td, ftype, out_path, is_big_endian=False, use_temp_file=False,
                     eager=True, metadata_override=None, model_name=f"g4-fixture-{name}",
                     split_max_tensors=0, split_max_size=0, dry_run=False,
                     small_first_shard=False, remote_hf_model_id=None,
                     disable_mistral_community_chat_template=False,
                     sentence_transformers_dense_modules=False, target_model_dir=None,
                     fuse_gate_up_exps=False, fp8_as_q8=False, fuse_qkv=False)
            m.write()


def build(name, seed):
    cls, cfg = make_config(name)
    torch.manual_seed(seed)
    model = cls(cfg).to(torch.float32).eval()
    randomize(model, seed, name.startswith("gemma3"))
    model.tie_weights()
    model.generation_config = gen_config()
    return cls, cfg, model


def pick_seed(name):
    """First seed (from SEEDS[name] upwards) whose greedy continuation is not
    degenerate (>= 12 distinct tokens, no step with a top-2 gap < 1e-2), so the
    greedy fixture exercises the KV cache and does not hinge on near-ties."""
    for k in range(40):
        seed = SEEDS[name] + 100 * k
        _, _, model = build(name, seed)
        ids = prompt_ids(seed)
        toks, gaps, _ = greedy(model, model.generation_config, ids[:PROMPT_LEN])
        if len(set(toks)) >= 12 and min(gaps) >= 1e-2:
            return seed
    raise SystemExit(f"{name}: no seed with a non-degenerate greedy run")


def prompt_ids(seed):
    rng = np.random.default_rng(seed)
    return [2] + rng.integers(4, VOCAB - 2, size=SEQ_LEN - 1).tolist()


# HF name suffix -> GGUF name suffix, as llama.cpp's converter maps them (docs/fixtures.md).
HF_TO_GGUF_LAYER = {
    "input_layernorm.weight": "attn_norm.weight",
    "post_attention_layernorm.weight": "post_attention_norm.weight",
    "pre_feedforward_layernorm.weight": "ffn_norm.weight",
    "post_feedforward_layernorm.weight": "post_ffw_norm.weight",
    "self_attn.q_proj.weight": "attn_q.weight", "self_attn.k_proj.weight": "attn_k.weight",
    "self_attn.v_proj.weight": "attn_v.weight", "self_attn.o_proj.weight": "attn_output.weight",
    "self_attn.q_norm.weight": "attn_q_norm.weight", "self_attn.k_norm.weight": "attn_k_norm.weight",
    "mlp.gate_proj.weight": "ffn_gate.weight", "mlp.up_proj.weight": "ffn_up.weight",
    "mlp.down_proj.weight": "ffn_down.weight", "layer_scalar": "layer_output_scale.weight",
}


def q8_dequant_logits(cls, cfg, model, gguf_path, ids):
    """HF logits of the model whose weights are the dequantized Q8_0 GGUF tensors
    (only used for gemma4_unified, so only its tensor names are mapped)."""
    from gguf import GGUFReader
    from gguf.quants import dequantize
    r = GGUFReader(str(gguf_path))
    g = {t.name: t for t in r.tensors}
    sd = {}
    for k, v in model.state_dict().items():
        if k == "lm_head.weight":
            continue
        if k == "model.embed_tokens.weight":
            gn = "token_embd.weight"
        elif k == "model.norm.weight":
            gn = "output_norm.weight"
        else:
            i, rest = k[len("model.layers."):].split(".", 1)
            gn = f"blk.{i}.{HF_TO_GGUF_LAYER[rest]}"
        t = g[gn]
        sd[k] = torch.from_numpy(np.array(dequantize(t.data, t.tensor_type), dtype=np.float32).reshape(v.shape))
    mq = cls(cfg).eval()
    mq.load_state_dict(sd, strict=False)
    mq.tie_weights()
    return forward_logits(mq, ids)


def run_model(name, out_root, llama_cpp):
    seed = pick_seed(name)
    cls, cfg, model = build(name, seed)
    gcfg = model.generation_config

    d = out_root / name
    if d.exists():
        shutil.rmtree(d)
    save_hf(model, gcfg, d)

    ids = prompt_ids(seed)
    (d / "input_ids.json").write_text(json.dumps(ids) + "\n")

    l32 = forward_logits(model, ids)
    write_f32(d / "logits_f32.bin", l32)
    m64 = cls(cfg).eval()
    m64.load_state_dict(model.state_dict())
    m64 = m64.to(torch.float64)
    l64 = forward_logits(m64, ids)
    spread = float(np.max(np.abs(l32 - l64)))
    toks, gaps, glog = greedy(model, gcfg, ids[:PROMPT_LEN])
    write_f32(d / "greedy_logits_f32.bin", glog)
    toks64, _, _ = greedy(m64, gcfg, ids[:PROMPT_LEN])
    (d / "greedy.json").write_text(json.dumps({
        "prompt_ids": ids[:PROMPT_LEN], "tokens": toks, "top2_gap": gaps,
        "eos_token_id": EOS_IDS, "suppress_tokens": SUPPRESS_IDS,
        "max_new_tokens": N_GREEDY, "float64_tokens_agree": toks64 == toks}, indent=1) + "\n")

    meta = {
        "name": name, "hf_class": cls.__name__, "seed": seed,
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                     "numpy": np.__version__},
        "seq_len": SEQ_LEN, "vocab_size": VOCAB, "dtype": "float32",
        "logits_file": "logits_f32.bin", "logits_layout": "little-endian float32 [seq_len][vocab_size], row t = logits after token t",
        "max_abs_logit": float(np.max(np.abs(l32))),
        "max_abs_logit_pre_softcap": (float(np.max(np.abs(np.arctanh(np.clip(l64 / 30.0, -0.999999, 0.999999)) * 30.0)))
                                      if cfg.final_logit_softcapping else float(np.max(np.abs(l64)))),
        "f32_vs_f64_max_abs_diff": spread,
        "suggested_atol_f32": max(1e-3, 10 * spread),
        "tolerance_note": "HF float32 vs HF float64 max |diff| over all logits; an independent "
                          "float32 implementation (different summation order) should stay within ~10x that (floor 1e-3).",
        "greedy_top2_min_gap": min(gaps) if gaps else None,
        "attn_implementation": "eager",
        "gguf": {},
    }

    if name in BF16_MODELS:
        db = out_root / (name + "_bf16")
        if db.exists():
            shutil.rmtree(db)
        mb = cls(cfg).eval()
        mb.load_state_dict(model.state_dict())
        mb = mb.to(torch.bfloat16)
        mb.generation_config = gcfg
        save_hf(mb, gcfg, db)
        shutil.copy(d / "input_ids.json", db / "input_ids.json")
        lb = forward_logits(mb, ids)
        write_f32(db / "logits_bf16.bin", lb)
        # Reference for the bf16 weights computed exactly (float64 on the same rounded weights).
        mb64 = cls(cfg).eval()
        mb64.load_state_dict({k: v.to(torch.float64) for k, v in mb.state_dict().items()})
        mb64 = mb64.to(torch.float64)
        lb64 = forward_logits(mb64, ids)
        # (per-step bf16 logits are not stored: HF's bf16 compute drifts too far
        # from exact on these models to be a useful step-by-step reference)
        btoks, bgaps, _ = greedy(mb, gcfg, ids[:PROMPT_LEN])
        (db / "greedy.json").write_text(json.dumps({
            "prompt_ids": ids[:PROMPT_LEN], "tokens": btoks, "top2_gap": bgaps,
            "eos_token_id": EOS_IDS, "suppress_tokens": SUPPRESS_IDS,
            "max_new_tokens": N_GREEDY}, indent=1) + "\n")
        bmeta = dict(meta)
        bmeta.update({
            "name": name + "_bf16", "dtype": "bfloat16", "logits_file": "logits_bf16.bin",
            "logits_layout": "little-endian float32 [seq_len][vocab_size] (HF bf16 logits widened to f32)",
            "max_abs_logit": float(np.max(np.abs(lb))),
            "bf16_vs_f64_same_weights_max_abs_diff": float(np.max(np.abs(lb - lb64))),
            "bf16_vs_f64_same_weights_mean_abs_diff": float(np.mean(np.abs(lb - lb64))),
            "bf16_top1_agree_with_f64": float(np.mean(np.argmax(lb, 1) == np.argmax(lb64, 1))),
            "exact_reference": f"../{name}/logits_f32.bin",
            "tolerance_note": "The weights are bit-identical to ../" + name + "/model.safetensors (bf16-exact "
                              "values), so an implementation computing in f32 must match ../" + name +
                              "/logits_f32.bin within its suggested_atol_f32. HF's bf16 compute (logits_bf16.bin) "
                              "drifts far from exact on these sharp random models (see bf16_vs_f64_*): use it only "
                              "for a bf16-compute path, with a tolerance around bf16_vs_f64_same_weights_max_abs_diff.",
            "greedy_top2_min_gap": min(bgaps) if bgaps else None,
            "gguf": None,
        })
        (db / "meta.json").write_text(json.dumps(bmeta, indent=1) + "\n")

    if llama_cpp:
        arch = {"gemma3_text": "Gemma3ForCausalLM",
                "gemma4_unified": "Gemma4UnifiedForConditionalGeneration"}.get(name, "Gemma4ForCausalLM")
        gt = GGUF_TYPE[name]
        convert_gguf(llama_cpp, d, name, arch, d / f"model-{gt}.gguf", gt)
        meta["gguf"][f"model-{gt}.gguf"] = {"outtype": gt, "llama_cpp_commit": LLAMA_CPP_COMMIT,
                                            "lossless": True}
        if name in Q8_MODELS:
            convert_gguf(llama_cpp, d, name, arch, d / "model-q8_0.gguf", "q8_0")
            lq = q8_dequant_logits(cls, cfg, model, d / "model-q8_0.gguf", ids)
            write_f32(d / "logits_q8_0_dequant_f32.bin", lq)
            meta["gguf"]["model-q8_0.gguf"] = {
                "outtype": "q8_0", "llama_cpp_commit": LLAMA_CPP_COMMIT, "lossless": False,
                "logits_file": "logits_q8_0_dequant_f32.bin",
                "logits_note": "HF float32 forward with every weight replaced by its Q8_0-dequantized value "
                               "(gguf.quants.dequantize); the exact reference for a decoder that dequantizes "
                               "Q8_0 and computes in f32. Same tolerance as logits_f32.bin.",
                "max_abs_diff_vs_logits_f32": float(np.max(np.abs(lq - l32)))}
    (d / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(f"{name}: spread {spread:.3g}  max|logit| {meta['max_abs_logit']:.2f} "
          f"pre-softcap {meta['max_abs_logit_pre_softcap']:.2f}  greedy {toks[:8]}... gapmin {meta['greedy_top2_min_gap']:.3g}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="tests/fixtures/models")
    ap.add_argument("--llama-cpp", default=os.environ.get("LLAMA_CPP_DIR"),
                    help="llama.cpp checkout (convert_hf_to_gguf.py, conversion/, gguf-py/) for the GGUF copies")
    ap.add_argument("--only", nargs="*", default=None)
    args = ap.parse_args()
    for k, v in PINNED.items():
        have = {"torch": torch.__version__.split("+")[0], "transformers": transformers.__version__}.get(k)
        if have is not None and have != v:
            print(f"warning: {k} {have} != pinned {v}", file=sys.stderr)
    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True)
    out = Path(args.out)
    for name in args.only or MODELS:
        run_model(name, out, Path(args.llama_cpp) if args.llama_cpp else None)


if __name__ == "__main__":
    main()
