#!/usr/bin/env python3
"""Generate tests/fixtures/server/gemma4/: a tiny random-weight Gemma 4
text model WITH the Gemma 4 test tokenizer, for black-box server tests.

The weights are HF transformers' Gemma4ForCausalLM (model_type gemma4_text,
dense, 4 layers 3:1 sliding/full, hidden 32) with vocab_size = 10,508 so the
embedding covers every id of tests/fixtures/tokenizer/gemma4test (made by
scripts/gen_tokenizer_fixtures.py from the reference tokenizer; text special
tokens at their spec ids).  Saved in BF16 (tied embeddings: 10,508 x 32 x 2 =
672 KB).  generation_config.json carries the IT eos list [1, 106, 50].  The
text it generates is garbage; the server tests only rely on grammar-constrained
decoding, the chat renderer (Gemma 4 format, chosen by model_type) and the
output parser.  Seeded: rerunning with the pinned versions (torch 2.15.0,
transformers 5.24.0) reproduces the files.
"""
import json
import shutil
from pathlib import Path

import torch
from transformers import GenerationConfig, Gemma4ForCausalLM, Gemma4TextConfig

ROOT = Path(__file__).resolve().parent.parent
TOK_DIR = ROOT / "tests/fixtures/tokenizer/gemma4test"
OUT = ROOT / "tests/fixtures/server/gemma4"
SEED = 4242


def main():
    tok = json.loads((TOK_DIR / "tokenizer.json").read_text())
    n_vocab = len(tok["model"]["vocab"])
    for a in tok["added_tokens"]:
        n_vocab = max(n_vocab, a["id"] + 1)
    assert n_vocab == 10508, n_vocab
    layer_types = ["sliding_attention", "sliding_attention", "sliding_attention", "full_attention"]
    cfg = Gemma4TextConfig(
        vocab_size=n_vocab, hidden_size=32, intermediate_size=64,
        num_hidden_layers=4, layer_types=layer_types,
        num_attention_heads=4, num_key_value_heads=2, head_dim=16,
        global_head_dim=32, num_global_key_value_heads=1, attention_k_eq_v=True,
        hidden_size_per_layer_input=0, sliding_window=64, max_position_embeddings=8192,
        rms_norm_eps=1e-6, final_logit_softcapping=30.0,
        hidden_activation="gelu_pytorch_tanh", tie_word_embeddings=True,
        pad_token_id=0, bos_token_id=2, eos_token_id=1, attn_implementation="eager")
    torch.manual_seed(SEED)
    model = Gemma4ForCausalLM(cfg).eval()
    g = torch.Generator().manual_seed(SEED)
    with torch.no_grad():
        for name, t in sorted(model.state_dict().items()):
            if not t.is_floating_point():
                continue
            if name.endswith("layer_scalar"):
                v = 0.5 + torch.rand(t.shape, generator=g)
            elif "norm" in name and t.dim() == 1:
                v = 1.0 + 0.3 * torch.randn(t.shape, generator=g)
            elif "embed_tokens" in name:
                v = torch.randn(t.shape, generator=g)
            elif t.dim() == 2:
                v = torch.randn(t.shape, generator=g) / t.shape[1] ** 0.5
            else:
                raise SystemExit(f"unhandled tensor {name} {tuple(t.shape)}")
            t.copy_(v)
    model = model.to(torch.bfloat16)
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    model.save_pretrained(OUT, safe_serialization=True)
    GenerationConfig(bos_token_id=2, pad_token_id=0, eos_token_id=[1, 106, 50],
                     do_sample=True, temperature=1.0, top_k=64, top_p=0.95).save_pretrained(OUT)
    shutil.copy(TOK_DIR / "tokenizer.json", OUT / "tokenizer.json")
    shutil.copy(TOK_DIR / "tokenizer_config.json", OUT / "tokenizer_config.json")
    # smoke check: the reference runs it and the tokenizer covers the ids
    with torch.no_grad():
        out = model(input_ids=torch.tensor([[2, 105, 1000, 106]]))
    assert out.logits.shape[-1] == n_vocab
    total = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"{OUT}: {total} bytes")


if __name__ == "__main__":
    main()
