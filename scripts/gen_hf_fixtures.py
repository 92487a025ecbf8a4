#!/usr/bin/env python3
"""gen_hf_fixtures.py — tiny Hugging Face model directories and safetensors
files for tests/unit/test_{safetensors,hfdir,config,model_load}.c.

Every model directory is written by transformers itself (save_pretrained of a
randomly initialised tiny model of each class: config.json,
generation_config.json, model.safetensors or shards + index), so tensor names,
shapes and config field spellings are the reference's. Next to each we write
g4_expect.json with what transformers reads back from that directory
(AutoConfig.from_pretrained + the instantiated modules: per-layer type, head
dim, KV heads, K=V, KV sharing, MLP width) and a few tensors' leading values
and sums, which the C tests compare against.

Two Gemma 4 GGUFs (tests/fixtures/hf/gguf/) are converted from those
directories with the `gguf` package, writing the metadata keys and tensor
names that llama.cpp's convert_hf_to_gguf.py Gemma4Model writes
(set_gguf_parameters: per-layer head_count_kv and feed_forward_length arrays,
sliding_window_pattern bools, key_length(_swa), shared_kv_layers,
embedding_length_per_layer_input, expert_*, rope_freqs for proportional RoPE;
names from gguf.get_tensor_name_map(MODEL_ARCH.GEMMA4)). Their expected
config is the same g4_expect.json as the directory they came from.

Usage: python3 scripts/gen_hf_fixtures.py   (needs torch, transformers==5.24.0, safetensors)
Output: tests/fixtures/hf/ (~1.1 MB) and tests/fuzz/seeds/fuzz_{config,safetensors}/.
"""
import json
import os
import shutil

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save_file
import transformers
from transformers import (AutoConfig, GenerationConfig, Gemma3Config, Gemma3ForCausalLM,
                          Gemma3ForConditionalGeneration, Gemma3TextConfig, Gemma4AssistantConfig,
                          Gemma4AssistantForCausalLM, Gemma4Config, Gemma4ForCausalLM,
                          Gemma4ForConditionalGeneration, Gemma4TextConfig, Gemma4UnifiedAssistantConfig,
                          Gemma4UnifiedAssistantForCausalLM, Gemma4UnifiedConfig,
                          Gemma4UnifiedForConditionalGeneration, Gemma4UnifiedTextConfig)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "hf")
VOCAB = 64


def tensor_expect(path, names):
    """Leading values (as float32) and float64 sum of some tensors, read back with safetensors."""
    out = {}
    with safe_open(path, "pt") as f:
        for n in names:
            if n not in f.keys():
                continue
            t = f.get_tensor(n)
            v = t.to(torch.float64).flatten()
            out[n] = {"file": os.path.basename(path), "dtype": str(t.dtype).replace("torch.", ""),
                      "shape": list(t.shape), "first": [float(x) for x in v[:4]], "sum": float(v.sum())}
    return out


def layer_expect(text_model, cfg_text, gemma4):
    layers = []
    for i, layer in enumerate(text_model.layers):
        a = layer.self_attn
        e = {"type": "sliding" if a.is_sliding else "global", "head_dim": a.head_dim,
             "n_head_kv": cfg_text.num_attention_heads // a.num_key_value_groups,
             "n_ff": layer.mlp.gate_proj.out_features}
        if gemma4:
            e["k_eq_v"] = bool(a.use_alternative_attention)
            e["kv_shared"] = bool(a.is_kv_shared_layer)
        else:
            e["scaling"] = a.scaling
        layers.append(e)
    # KV source: a shared layer reuses the last non-shared layer of its type (HF kv_sharing_modes)
    if gemma4:
        modes = cfg_text.kv_sharing_modes
        for i, e in enumerate(layers):
            e["kv_source"] = i
            if modes[i] == "reuse":
                src = [j for j in range(i) if modes[j] != "reuse" and layers[j]["type"] == e["type"]]
                e["kv_source"] = src[-1] if src else -1
    return layers


def write_model(name, model, dtype, shard=None, gen=None, tensors=(), text_attr=None, fixup=None, cls=None):
    d = os.path.join(OUT, name)
    shutil.rmtree(d, ignore_errors=True)
    model = model.to(dtype)
    kw = {"max_shard_size": shard} if shard else {}
    model.save_pretrained(d, **kw)
    if gen is not None:
        gen.save_pretrained(d)
    if fixup:
        fixup(d)
    # what transformers reads back from the directory
    cfg = AutoConfig.from_pretrained(d)
    torch.manual_seed(0)
    m2 = cls(cfg) if cls else model
    text_cfg = cfg.get_text_config()
    tm = text_attr(m2)
    gemma4 = "gemma4" in cfg.model_type
    exp = {"model_type": cfg.model_type, "text_model_type": text_cfg.model_type,
           "n_layer": text_cfg.num_hidden_layers, "n_embd": text_cfg.hidden_size, "n_vocab": text_cfg.vocab_size,
           "n_head": text_cfg.num_attention_heads, "sliding_window": text_cfg.sliding_window,
           "context_length": text_cfg.max_position_embeddings, "rms_eps": text_cfg.rms_norm_eps,
           "final_softcap": text_cfg.final_logit_softcapping or 0.0,
           "rope": text_cfg.rope_parameters, "layers": layer_expect(tm, text_cfg, gemma4)}
    if gemma4:
        exp["n_kv_shared_layers"] = text_cfg.num_kv_shared_layers
        exp["n_embd_per_layer"] = getattr(text_cfg, "hidden_size_per_layer_input", 0) or 0
        exp["n_expert"] = getattr(text_cfg, "num_experts", None) or 0
        exp["n_expert_used"] = getattr(text_cfg, "top_k_experts", None) or 0
        exp["n_ff_expert"] = getattr(text_cfg, "moe_intermediate_size", None) or 0
    else:
        exp["query_pre_attn_scalar"] = text_cfg.query_pre_attn_scalar
    if hasattr(cfg, "backbone_hidden_size"):
        exp["backbone_hidden"] = cfg.backbone_hidden_size
    if gen is not None:
        g = GenerationConfig.from_pretrained(d)
        eos = g.eos_token_id if isinstance(g.eos_token_id, list) else [g.eos_token_id]
        exp["generation"] = {"eos": eos, "temperature": g.temperature, "top_k": g.top_k, "top_p": g.top_p,
                             "suppress": g.suppress_tokens or []}
    files = sorted(f for f in os.listdir(d) if f.endswith(".safetensors"))
    exp["files"] = files
    exp["tensors"] = {}
    for f in files:
        exp["tensors"].update(tensor_expect(os.path.join(d, f), tensors))
    with open(os.path.join(d, "g4_expect.json"), "w") as fp:
        json.dump(exp, fp, indent=1, sort_keys=True)
    return d


def gen_basic():
    """A safetensors file with every dtype g4 maps, a 0-d scalar, a 3-D and an empty tensor."""
    d = os.path.join(OUT, "st")
    os.makedirs(d, exist_ok=True)
    g = torch.Generator().manual_seed(1)
    t = {
        "f32_2x3": torch.randn(2, 3, generator=g),
        "f16_4": torch.randn(4, generator=g).to(torch.float16),
        "bf16_3x2": torch.randn(3, 2, generator=g).to(torch.bfloat16),
        "scalar": torch.tensor(3.5),
        "f32_2x3x4": torch.randn(2, 3, 4, generator=g),
        "i64_5": torch.arange(5, dtype=torch.int64) * 7 - 3,
        "empty": torch.zeros(0),
    }
    path = os.path.join(d, "basic.safetensors")
    save_file(t, path, metadata={"format": "pt", "note": "g4 fixture"})
    exp = {}
    for k, v in t.items():
        exp[k] = {"dtype": {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
                            torch.int64: "I64"}[v.dtype],
                  "shape": list(v.shape), "values": [float(x) for x in v.to(torch.float64).flatten()]}
    with open(os.path.join(d, "basic.json"), "w") as fp:
        json.dump(exp, fp, indent=1, sort_keys=True)


COMMON_TENSORS = ["embed_tokens.weight", "layers.0.self_attn.q_proj.weight", "layers.1.mlp.down_proj.weight",
                  "norm.weight", "layers.5.self_attn.k_proj.weight"]


def names(prefix, extra=()):
    return [prefix + n for n in COMMON_TENSORS] + list(extra)


def main():
    assert transformers.__version__ == "5.24.0", transformers.__version__
    os.makedirs(OUT, exist_ok=True)
    gen_basic()

    # Gemma 3 270M-like text model: F32, one file, generation_config with an eos list
    torch.manual_seed(0)
    c = Gemma3TextConfig(vocab_size=VOCAB, hidden_size=16, intermediate_size=32, num_hidden_layers=6,
                         num_attention_heads=2, num_key_value_heads=1, head_dim=8, query_pre_attn_scalar=8,
                         sliding_window=8, max_position_embeddings=2048, rope_theta=1e6, rope_local_base_freq=1e4)
    gen = GenerationConfig(bos_token_id=2, eos_token_id=[1, 50], pad_token_id=0, do_sample=True, top_k=64,
                           top_p=0.95, temperature=1.0)
    write_model("gemma3_text", Gemma3ForCausalLM(c), torch.float32, gen=gen,
                tensors=names("model."), text_attr=lambda m: m.model)

    # Gemma 3 4B-like multimodal: BF16, sharded with an index, linear RoPE scaling on global layers
    torch.manual_seed(0)
    tc = dict(vocab_size=VOCAB, hidden_size=16, intermediate_size=32, num_hidden_layers=6, num_attention_heads=2,
              num_key_value_heads=1, head_dim=8, query_pre_attn_scalar=8, sliding_window=8,
              max_position_embeddings=4096, rope_scaling={"rope_type": "linear", "factor": 8.0})
    vc = dict(hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2, image_size=28,
              patch_size=14)
    c = Gemma3Config(text_config=tc, vision_config=vc, mm_tokens_per_image=4, boi_token_index=60,
                     eoi_token_index=61, image_token_index=62)
    write_model("gemma3", Gemma3ForConditionalGeneration(c), torch.bfloat16, shard="12KB",
                tensors=names("language_model.model."),  # transformers 5 saves Gemma 3 in the legacy layout
                text_attr=lambda m: m.model.language_model, cls=Gemma3ForConditionalGeneration)

    # Gemma 4 E2B-like text model: F16, per-layer embeddings, KV sharing, double-wide MLP
    torch.manual_seed(0)
    c = Gemma4TextConfig(vocab_size=VOCAB, hidden_size=16, intermediate_size=32, num_hidden_layers=7,
                         num_attention_heads=2, num_key_value_heads=1, head_dim=8, global_head_dim=16,
                         layer_types=["sliding_attention"] * 3 + ["full_attention"] + ["sliding_attention"] * 2
                         + ["full_attention"],
                         num_kv_shared_layers=2, hidden_size_per_layer_input=4, vocab_size_per_layer_input=VOCAB,
                         use_double_wide_mlp=True, sliding_window=8, final_logit_softcapping=30.0,
                         max_position_embeddings=2048)
    write_model("gemma4_text", Gemma4ForCausalLM(c), torch.float16,
                tensors=names("model.", ["model.embed_tokens_per_layer.weight"]), text_attr=lambda m: m.model,
                cls=Gemma4ForCausalLM)

    # Gemma 4 26B-A4B-like: MoE + K=V global layers + ViT vision; config.json rewritten to the
    # released style (global_head_dim / num_global_key_value_heads, no per_layer_config)
    torch.manual_seed(0)
    tc = dict(vocab_size=VOCAB, hidden_size=16, intermediate_size=32, num_hidden_layers=6, num_attention_heads=2,
              num_key_value_heads=2, head_dim=8, global_head_dim=16, num_global_key_value_heads=1,
              attention_k_eq_v=True, enable_moe_block=True, num_experts=4, top_k_experts=2,
              moe_intermediate_size=8, hidden_size_per_layer_input=0, vocab_size_per_layer_input=0,
              sliding_window=8, final_logit_softcapping=30.0, max_position_embeddings=8192,
              use_bidirectional_attention="vision")
    vc = dict(hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
              num_key_value_heads=2, head_dim=8, patch_size=2, position_embedding_size=16)
    c = Gemma4Config(text_config=tc, vision_config=vc, audio_config=None, boi_token_id=60, eoi_token_id=61,
                     image_token_id=62, video_token_id=63, boa_token_id=59, eoa_token_index=58, audio_token_id=57)

    def released_style(d):
        p = os.path.join(d, "config.json")
        j = json.load(open(p))
        j["text_config"].pop("per_layer_config", None)
        j["text_config"]["global_head_dim"] = 16
        j["text_config"]["num_global_key_value_heads"] = 1
        json.dump(j, open(p, "w"), indent=2, sort_keys=True)
    gen = GenerationConfig(bos_token_id=2, eos_token_id=[1, 106 % VOCAB, 50], pad_token_id=0, do_sample=True,
                           top_k=64, top_p=0.95, temperature=1.0)
    write_model("gemma4", Gemma4ForConditionalGeneration(c), torch.bfloat16, gen=gen, fixup=released_style,
                tensors=names("model.language_model.", ["model.language_model.layers.0.experts.gate_up_proj",
                                                        "model.language_model.layers.0.router.proj.weight"]),
                text_attr=lambda m: m.model.language_model, cls=Gemma4ForConditionalGeneration)

    # Gemma 4 12B-unified-like: BF16 shards + index, shipped multimodal names, suppress_tokens
    torch.manual_seed(0)
    tc = dict(vocab_size=VOCAB, hidden_size=16, intermediate_size=32, num_hidden_layers=6, num_attention_heads=2,
              num_key_value_heads=2, head_dim=8, global_head_dim=16, num_global_key_value_heads=1,
              attention_k_eq_v=True, sliding_window=8, final_logit_softcapping=30.0, max_position_embeddings=4096)
    c = Gemma4UnifiedConfig(text_config=tc, vision_config=dict(patch_size=2, pooling_kernel_size=3, mm_embed_dim=16,
                                                               mm_posemb_size=8, output_proj_dims=16),
                            audio_config=dict(audio_embed_dim=8), boi_token_id=60, eoi_token_id=61,
                            image_token_id=62, video_token_id=63, boa_token_id=59, eoa_token_index=58,
                            audio_token_id=57)
    gen = GenerationConfig(bos_token_id=2, eos_token_id=[1, 50, 51], pad_token_id=0, do_sample=True, top_k=64,
                           top_p=0.95, temperature=1.0, suppress_tokens=[58, 61])
    mm = ["model.vision_embedder.patch_dense.weight", "model.vision_embedder.pos_embedding",
          "model.embed_vision.embedding_projection.weight", "model.embed_audio.embedding_projection.weight"]
    model = Gemma4UnifiedForConditionalGeneration(c)
    d = write_model("gemma4_unified", model, torch.bfloat16, shard="20KB", gen=gen,
                    tensors=names("model.language_model.", mm), text_attr=lambda m: m.model.language_model)

    # the same weights under HF's module names (spec 7.1 / gotcha 21), one file
    d2 = os.path.join(OUT, "gemma4_unified_hfnames")
    shutil.rmtree(d2, ignore_errors=True)
    os.makedirs(d2)
    ren = {"model.vision_embedder.": "model.embed_vision.",
           "model.embed_vision.embedding_projection.": "model.embed_vision.multimodal_embedder.embedding_projection."}
    merged = {}
    for f in sorted(os.listdir(d)):
        if f.endswith(".safetensors"):
            with safe_open(os.path.join(d, f), "pt") as sf:
                for k in sf.keys():
                    nk = k
                    for a, b in ren.items():
                        if nk.startswith(a):
                            nk = b + nk[len(a):]
                    merged[nk] = sf.get_tensor(k)
    save_file(merged, os.path.join(d2, "model.safetensors"), metadata={"format": "pt"})
    for f in ("config.json", "generation_config.json"):
        shutil.copy(os.path.join(d, f), d2)

    # assistants (MTP drafters)
    torch.manual_seed(0)
    at = Gemma4TextConfig(vocab_size=VOCAB, hidden_size=8, intermediate_size=16, num_hidden_layers=2,
                          num_attention_heads=2, num_key_value_heads=1, head_dim=8, global_head_dim=16,
                          layer_types=["sliding_attention", "full_attention"], hidden_size_per_layer_input=0,
                          vocab_size_per_layer_input=0, sliding_window=8, max_position_embeddings=2048)
    c = Gemma4AssistantConfig(text_config=at, backbone_hidden_size=16, use_ordered_embeddings=True,
                              num_centroids=8, centroid_intermediate_top_k=2)
    write_model("gemma4_assistant", Gemma4AssistantForCausalLM(c), torch.float32,
                tensors=["pre_projection.weight", "masked_embedding.token_ordering", "model.layers.0.self_attn.q_proj.weight"],
                text_attr=lambda m: m.model, cls=Gemma4AssistantForCausalLM)
    torch.manual_seed(0)
    at = Gemma4UnifiedTextConfig(vocab_size=VOCAB, hidden_size=8, intermediate_size=16, num_hidden_layers=2,
                                 num_attention_heads=2, num_key_value_heads=2, head_dim=8, global_head_dim=16,
                                 num_global_key_value_heads=1, attention_k_eq_v=True,
                                 layer_types=["sliding_attention", "full_attention"], sliding_window=8,
                                 max_position_embeddings=2048)
    c = Gemma4UnifiedAssistantConfig(text_config=at, backbone_hidden_size=16)
    write_model("gemma4_unified_assistant", Gemma4UnifiedAssistantForCausalLM(c), torch.bfloat16,
                tensors=["pre_projection.weight", "post_projection.weight", "model.norm.weight"],
                text_attr=lambda m: m.model, cls=Gemma4UnifiedAssistantForCausalLM)

    # tokenizer-only directory: a tokenizer.json and nothing else
    d = os.path.join(OUT, "tok_only")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    from tokenizers import Tokenizer, models
    vocab = {"<pad>": 0, "<eos>": 1, "<bos>": 2, "<unk>": 3, "a": 4, "b": 5, "ab": 6}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[("a", "b")], unk_token="<unk>", byte_fallback=True))
    tok.save(os.path.join(d, "tokenizer.json"))

    gguf_from_dir("gemma4_text", "gemma4_text.gguf")
    gguf_from_dir("gemma4", "gemma4_moe.gguf")
    gguf_mmproj("mmproj_gemma4uv.gguf", "gemma4uv")
    gguf_mmproj("mmproj_gemma4v.gguf", "gemma4v")
    gguf_assistant("gemma4_unified_assistant", "assistant.gguf")
    gen_fuzz_seeds()


def gguf_from_dir(name, out_name):
    """Mirror of convert_hf_to_gguf.py Gemma4Model (metadata + tensor names), F32 tensors."""
    import gguf
    d = os.path.join(OUT, name)
    cfg = AutoConfig.from_pretrained(d)
    t = cfg.get_text_config()
    os.makedirs(os.path.join(OUT, "gguf"), exist_ok=True)
    w = gguf.GGUFWriter(os.path.join(OUT, "gguf", out_name), "gemma4")
    n = t.num_hidden_layers
    swa = [x == "sliding_attention" for x in t.layer_types]
    heads_kv = [t.num_attention_heads // 1 for _ in range(n)]
    # per-layer dims exactly as transformers resolved them
    model = {"gemma4_text": Gemma4ForCausalLM, "gemma4": Gemma4ForConditionalGeneration}[cfg.model_type](cfg)
    tm = model.model if cfg.model_type == "gemma4_text" else model.model.language_model
    heads_kv = [t.num_attention_heads // l.self_attn.num_key_value_groups for l in tm.layers]
    head_full = max(l.self_attn.head_dim for l in tm.layers)
    head_swa = min(l.self_attn.head_dim for l in tm.layers)
    w.add_context_length(t.max_position_embeddings)
    w.add_embedding_length(t.hidden_size)
    w.add_block_count(n)
    n_shared = t.num_kv_shared_layers
    if t.use_double_wide_mlp:
        w.add_feed_forward_length([t.intermediate_size * (2 if i >= n - n_shared else 1) for i in range(n)])
    else:
        w.add_feed_forward_length(t.intermediate_size)
    w.add_head_count(t.num_attention_heads)
    w.add_head_count_kv(heads_kv)
    w.add_layer_norm_rms_eps(t.rms_norm_eps)
    w.add_rope_freq_base(t.rope_parameters["full_attention"]["rope_theta"])
    w.add_rope_freq_base_swa(t.rope_parameters["sliding_attention"]["rope_theta"])
    if t.final_logit_softcapping:
        w.add_final_logit_softcapping(t.final_logit_softcapping)
    w.add_sliding_window(t.sliding_window)
    w.add_shared_kv_layers(n_shared)
    w.add_embedding_length_per_layer_input(t.hidden_size_per_layer_input or 0)
    w.add_sliding_window_pattern(swa)
    w.add_key_length(head_full)
    w.add_value_length(head_full)
    w.add_key_length_swa(head_swa)
    w.add_value_length_swa(head_swa)
    if t.enable_moe_block:
        w.add_expert_count(t.num_experts)
        w.add_expert_used_count(t.top_k_experts)
        w.add_expert_feed_forward_length(t.moe_intermediate_size)
    w.add_rope_dimension_count(head_full)
    w.add_rope_dimension_count_swa(head_swa)
    w.add_bos_token_id(2)
    w.add_eos_token_id(1)
    w.add_pad_token_id(0)
    tmap = gguf.get_tensor_name_map(gguf.MODEL_ARCH.GEMMA4, n)
    for f in sorted(os.listdir(d)):
        if not f.endswith(".safetensors"):
            continue
        with safe_open(os.path.join(d, f), "pt") as sf:
            for k in sf.keys():
                if not k.startswith("model.language_model.") and cfg.model_type == "gemma4":
                    continue  # vision tower goes to the mmproj, not the text GGUF
                data = sf.get_tensor(k).to(torch.float32).numpy()
                hk = k.replace("model.language_model.", "model.")
                bid = hk.split(".")[2] if hk.startswith("model.layers.") else None
                if hk.endswith("router.scale"):
                    gn = f"blk.{bid}.ffn_gate_inp.scale"
                elif hk.endswith("router.per_expert_scale"):
                    gn = f"blk.{bid}.ffn_down_exps.scale"
                else:
                    if hk.endswith("layer_scalar") or hk.endswith("experts.gate_up_proj") or hk.endswith("experts.down_proj"):
                        hk += ".weight"
                    gn = tmap.get_name(hk, try_suffixes=(".weight", ".bias"))
                    assert gn, hk
                w.add_tensor(gn, data)
    # proportional RoPE on global layers: factor 1 for rotated pairs, 1e30 for the rest
    rp = t.rope_parameters["full_attention"]
    n_rot = int(head_full * rp.get("partial_rotary_factor", 1.0) / 2)
    w.add_tensor("rope_freqs.weight", np.array([1.0] * n_rot + [1e30] * (head_full // 2 - n_rot), dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def gguf_mmproj(out_name, projector):
    """A minimal mmproj (architecture "clip") with one tensor, as llama.cpp's MmprojModel writes the header."""
    import gguf
    w = gguf.GGUFWriter(os.path.join(OUT, "gguf", out_name), "clip")
    w.add_string("general.type", "mmproj")
    w.add_clip_projector_type(projector)
    w.add_bool("clip.has_vision_encoder", True)
    w.add_uint32("clip.vision.patch_size", 2)
    w.add_uint32("clip.vision.embedding_length", 16)
    w.add_tensor("mm.input_projection.weight", np.arange(16 * 16, dtype=np.float32).reshape(16, 16) / 256)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def gguf_assistant(name, out_name):
    """The 12B-style assistant as a "gemma4-assistant" GGUF (keys and names as llama.cpp's loader reads them:
    embedding_length_out = target width, nextn.pre/post_projection)."""
    import gguf
    d = os.path.join(OUT, name)
    cfg = AutoConfig.from_pretrained(d)
    t = cfg.get_text_config()
    model = Gemma4UnifiedAssistantForCausalLM(cfg)
    n = t.num_hidden_layers
    arch = "gemma4-assistant"
    w = gguf.GGUFWriter(os.path.join(OUT, "gguf", out_name), arch)
    heads_kv = [t.num_attention_heads // l.self_attn.num_key_value_groups for l in model.model.layers]
    dims = [l.self_attn.head_dim for l in model.model.layers]
    w.add_uint32(f"{arch}.context_length", t.max_position_embeddings)
    w.add_uint32(f"{arch}.embedding_length", t.hidden_size)
    w.add_uint32(f"{arch}.embedding_length_out", cfg.backbone_hidden_size)
    w.add_uint32(f"{arch}.block_count", n)
    w.add_uint32(f"{arch}.feed_forward_length", t.intermediate_size)
    w.add_uint32(f"{arch}.attention.head_count", t.num_attention_heads)
    w.add_array(f"{arch}.attention.head_count_kv", heads_kv)
    w.add_uint32(f"{arch}.attention.key_length", max(dims))
    w.add_uint32(f"{arch}.attention.value_length", max(dims))
    w.add_uint32(f"{arch}.attention.key_length_swa", min(dims))
    w.add_uint32(f"{arch}.attention.value_length_swa", min(dims))
    w.add_float32(f"{arch}.attention.layer_norm_rms_epsilon", t.rms_norm_eps)
    w.add_uint32(f"{arch}.attention.sliding_window", t.sliding_window)
    w.add_array(f"{arch}.attention.sliding_window_pattern", [x == "sliding_attention" for x in t.layer_types])
    w.add_float32(f"{arch}.rope.freq_base", t.rope_parameters["full_attention"]["rope_theta"])
    w.add_float32(f"{arch}.rope.freq_base_swa", t.rope_parameters["sliding_attention"]["rope_theta"])
    tmap = gguf.get_tensor_name_map(gguf.MODEL_ARCH.GEMMA4, n)
    with safe_open(os.path.join(d, "model.safetensors"), "pt") as sf:
        for k in sf.keys():
            data = sf.get_tensor(k).to(torch.float32).numpy()
            if k in ("pre_projection.weight", "post_projection.weight"):
                gn = "nextn." + k
            else:
                hk = k + ".weight" if k.endswith("layer_scalar") else k
                gn = tmap.get_name(hk, try_suffixes=(".weight", ".bias"))
                assert gn, k
            w.add_tensor(gn, data)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def gen_fuzz_seeds():
    """Seeds for tests/fuzz/fuzz_config.c and fuzz_safetensors.c (inputs <= 64 KiB)."""
    import gguf
    root = os.path.join(OUT, "..", "..", "fuzz", "seeds")
    sc, ss = os.path.join(root, "fuzz_config"), os.path.join(root, "fuzz_safetensors")
    os.makedirs(sc, exist_ok=True)
    os.makedirs(ss, exist_ok=True)
    for d in ("gemma3_text", "gemma3", "gemma4_text", "gemma4", "gemma4_unified", "gemma4_assistant"):
        with open(os.path.join(sc, d + ".json"), "wb") as fp:
            fp.write(open(os.path.join(OUT, d, "config.json"), "rb").read() + b"\0" +
                     open(os.path.join(OUT, d, "generation_config.json"), "rb").read())
    shutil.copy(os.path.join(OUT, "gguf", "assistant.gguf"), os.path.join(sc, "assistant.gguf"))
    shutil.copy(os.path.join(OUT, "gguf", "mmproj_gemma4uv.gguf"), os.path.join(sc, "mmproj.gguf"))
    w = gguf.GGUFWriter(os.path.join(sc, "gemma3_meta.gguf"), "gemma3")
    w.add_context_length(32768); w.add_embedding_length(16); w.add_block_count(6); w.add_feed_forward_length(32)
    w.add_head_count(2); w.add_head_count_kv(1); w.add_key_length(8); w.add_value_length(8)
    w.add_layer_norm_rms_eps(1e-6); w.add_rope_freq_base(1e6); w.add_sliding_window(8)
    w.add_string("gemma3.rope.scaling.type", "linear"); w.add_float32("gemma3.rope.scaling.factor", 8.0)
    w.add_bos_token_id(2); w.add_eos_token_id(1)
    w.add_tensor("token_embd.weight", np.zeros((64, 16), dtype=np.float32))
    w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
    shutil.copy(os.path.join(OUT, "st", "basic.safetensors"), os.path.join(ss, "basic.safetensors"))
    shutil.copy(os.path.join(OUT, "gemma4_unified_assistant", "model.safetensors"), os.path.join(ss, "assistant.safetensors"))


if __name__ == "__main__":
    main()
