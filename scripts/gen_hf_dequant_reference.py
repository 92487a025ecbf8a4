#!/usr/bin/env python3
"""HF transformers logits of the real Gemma 3 270M on its dequantized GGUF weights.

The reference for g4's exact path (g4_context_params.f32_activations = 1):
the Q4_K_M GGUF's tensors are dequantized with the `gguf` package (bit-exact
reference dequantizers), Gemma 3 norm weights get llama.cpp's +1 removed (the
converter stored 1 + w), and transformers' Gemma3ForCausalLM (eager, float32)
runs the first N token ids of tests/fixtures/llamacpp/tokens.json. A float64
run of the same weights measures the f32 rounding spread that justifies the
test tolerance.

Writes tests/fixtures/hf_dequant/gemma3_270m.json:
  ids            the N input ids
  top1, top2_gap per position (float32 run)
  probes         for a few positions: the top-16 ids and their float32 logits
  f32_vs_f64_max_abs_diff over the probed logits, suggested_atol

Pinned: torch 2.15.0, transformers 5.24.0, gguf 0.19.0.
"""
import argparse
import json
import os

import gguf
import numpy as np
import torch
import transformers
from transformers import Gemma3ForCausalLM, Gemma3TextConfig

N = 256
PROBES = [0, 1, 2, 15, 16, 100, 200, 255]
TOPK = 16

SUB = {"attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
       "attn_output": "self_attn.o_proj", "attn_q_norm": "self_attn.q_norm", "attn_k_norm": "self_attn.k_norm",
       "attn_norm": "input_layernorm", "post_attention_norm": "post_attention_layernorm",
       "ffn_norm": "pre_feedforward_layernorm", "post_ffw_norm": "post_feedforward_layernorm",
       "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj", "ffn_down": "mlp.down_proj"}


def build(path, dtype):
    r = gguf.GGUFReader(path)
    f = {k: v.contents() for k, v in r.fields.items() if k.startswith("gemma3.")}
    n_embd = f["gemma3.embedding_length"]
    head_dim = f["gemma3.attention.key_length"]
    cfg = Gemma3TextConfig(
        vocab_size=len(r.fields["tokenizer.ggml.tokens"].data), hidden_size=n_embd,
        intermediate_size=f["gemma3.feed_forward_length"], num_hidden_layers=f["gemma3.block_count"],
        num_attention_heads=f["gemma3.attention.head_count"], num_key_value_heads=f["gemma3.attention.head_count_kv"],
        head_dim=head_dim, query_pre_attn_scalar=head_dim, sliding_window=f["gemma3.attention.sliding_window"],
        max_position_embeddings=f["gemma3.context_length"], rms_norm_eps=f["gemma3.attention.layer_norm_rms_epsilon"],
        final_logit_softcapping=None, attn_logit_softcapping=None,
        rope_parameters={"sliding_attention": {"rope_type": "default", "rope_theta": 10000.0},
                         "full_attention": {"rope_type": "default", "rope_theta": f["gemma3.rope.freq_base"]}},
        pad_token_id=0, bos_token_id=2, eos_token_id=1, tie_word_embeddings=True, attn_implementation="eager")
    m = Gemma3ForCausalLM(cfg).eval()
    sd = m.state_dict()
    for t in r.tensors:
        w = np.array(gguf.quants.dequantize(t.data, t.tensor_type), dtype=np.float64)
        if t.name == "token_embd.weight":
            hf = "model.embed_tokens.weight"
        elif t.name == "output_norm.weight":
            hf = "model.norm.weight"
        else:
            _, i, rest = t.name.split(".", 2)
            hf = f"model.layers.{i}.{SUB[rest.rsplit('.', 1)[0]]}.weight"
        if "norm" in t.name:
            w = w - 1.0   # llama.cpp's Gemma 3 converter stored 1 + w
        with torch.no_grad():
            sd[hf].copy_(torch.tensor(w.astype(np.float32)).reshape(sd[hf].shape))
    return m.to(dtype)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=os.path.expanduser("~/.cache/g4/gemma-3-270m-q4_k_m.gguf"))
    ap.add_argument("--tokens", default="tests/fixtures/llamacpp/tokens.json")
    ap.add_argument("--out", default="tests/fixtures/hf_dequant/gemma3_270m.json")
    args = ap.parse_args()
    torch.set_num_threads(2)
    ids = json.load(open(args.tokens))["ids"][:N]
    with torch.no_grad():
        l32 = build(args.model, torch.float32)(input_ids=torch.tensor([ids]), use_cache=False).logits[0].double().numpy()
        l64 = build(args.model, torch.float64)(input_ids=torch.tensor([ids]), use_cache=False).logits[0].numpy()
    top2 = np.sort(l32, axis=1)[:, -2:]
    probes = {}
    spread = 0.0
    for p in PROBES:
        idx = np.argsort(-l32[p], kind="stable")[:TOPK]
        probes[str(p)] = {"ids": idx.tolist(), "logits": l32[p][idx].astype(np.float32).tolist()}
        spread = max(spread, float(np.max(np.abs(l32[p][idx] - l64[p][idx]))))
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    json.dump({
        "model_file": os.path.basename(args.model), "n": N,
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "gguf": gguf.__version__ if hasattr(gguf, "__version__") else "0.19.0"},
        "note": "HF Gemma3ForCausalLM (eager, float32) on the GGUF's dequantized weights (norms: GGUF value - 1)",
        "ids": ids, "top1": l32.argmax(1).tolist(), "top2_gap": (top2[:, 1] - top2[:, 0]).tolist(),
        "probes": probes, "f32_vs_f64_max_abs_diff": spread, "suggested_atol": max(1e-3, 10 * spread),
    }, open(args.out, "w"))
    print(f"spread {spread:.3g}, min gap {float(np.min(top2[:, 1] - top2[:, 0])):.3g}")


if __name__ == "__main__":
    main()
