#!/usr/bin/env python3
"""Reference outputs of llama.cpp on the real Gemma 3 270M Q4_K_M GGUF.

Writes tests/fixtures/llamacpp/:
  tokens.json        text tokenized by llama.cpp (BOS + text), see docs/fixtures.md
  teacher.json       per position: top-1 id, top-2 logit gap, log p(next token)
  teacher_top.bin    top-K (id, logit) lists for a few positions (format in docs)
  perplexity.json    llama-perplexity-style chunked PPL with per-token NLL
  greedy.json        greedy (temperature 0) continuations of 5 prompts with
                     the top-2 gap of every step
from tests/fixtures/llamacpp/text.txt (original prose written for this repo).

llama.cpp is driven through llama-cpp-python (pinned below), CPU only,
n_threads=2, n_batch=n_ubatch=512, F32 KV cache (-ctk f32 -ctv f32), logits
for every position.  Activations are
quantized to Q8_K inside llama.cpp's Q4_K/Q6_K dot products, so an exact
implementation differs from these logits by ~1e-2; compare top-1 ids away
from near-ties and NLL/PPL with a tolerance (docs/fixtures.md).
"""
import argparse
import json
import math
import os
import struct
import sys
from pathlib import Path

import numpy as np

PINNED_LLAMA_CPP_PYTHON = "0.3.36"
LLAMA_CPP_COMMIT = "0c1e57098bba43ac29e6e3b677cdceebdd22334f"
N_THREADS = 2
N_BATCH = 512
PPL_CTX = 512                      # llama-perplexity -c 512
TOPK_POSITIONS = [0, 1, 2, 15, 16, 100, 511, 512, 513, 1000, -2]
TOPK = 64
N_GEN = 64

PROMPTS = [
    {"name": "raw_fox", "chat": False,
     "text": "The quick brown fox jumps over the lazy dog. The"},
    {"name": "raw_capitals", "chat": False,
     "text": "The capital of France is Paris. The capital of Germany is"},
    {"name": "raw_code", "chat": False,
     "text": "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n"},
    {"name": "chat_haiku", "chat": True,
     "text": "Write a haiku about the sea."},
    {"name": "chat_explain", "chat": True,
     "text": "Explain in two sentences why the sky is blue."},
]


def chat_wrap(user):
    # Gemma 3 chat template (tokenizer_config chat_template) for one user turn
    # plus the generation prompt; <bos> comes from the template.
    return f"<bos><start_of_turn>user\n{user}<end_of_turn>\n<start_of_turn>model\n"


def log_softmax(x):
    x = x.astype(np.float64)
    m = x.max()
    return x - m - math.log(np.exp(x - m).sum())


def top2_gap(x):
    i = np.argpartition(-x, 2)[:2]
    a, b = sorted(x[i].astype(np.float64), reverse=True)
    return float(a - b)


def _run_tiny(path, ids):
    from llama_cpp import Llama
    llm = Llama(model_path=str(path), n_ctx=64, n_batch=64, n_ubatch=64,
                n_threads=N_THREADS, logits_all=True, verbose=False,
                type_k=0, type_v=0)   # F32 KV cache (default F16 adds ~1e-3 error)
    llm.eval(ids)
    lg = np.array(llm.scores[: len(ids)], dtype=np.float32)
    del llm
    return lg


def tiny_crosscheck(models_dir, out, llama_cpp_dir):
    """Run llama.cpp on the tiny GGUF fixtures and compare with the HF logits.

    This validates the GGUF copies end to end (llama.cpp reads them and computes
    about the same function as HF).  ggml's CPU BF16 matmul rounds activations
    to bf16, so the committed BF16 files are also re-converted to a temporary
    F32 GGUF (same converter) for a tighter comparison.  ggml is not exact in
    F32 either (e.g. GELU through an fp16 table), so expect ~1e-2..1e-1 on
    these sharp random models.  Result: tiny_crosscheck.json."""
    import tempfile
    sys.path.insert(0, str(Path(__file__).parent))
    import gen_model_fixtures as gmf
    res = {}
    for name in sorted(os.listdir(models_dir)):
        d = Path(models_dir) / name
        if not (d / "meta.json").exists():
            continue
        meta = json.loads((d / "meta.json").read_text())
        if not meta.get("gguf"):
            continue
        ids = json.loads((d / "input_ids.json").read_text())
        ref = np.fromfile(d / meta["logits_file"], "<f4").reshape(len(ids), -1)
        files = [(g, d / g) for g in sorted(meta["gguf"])]
        td = tempfile.mkdtemp()
        if llama_cpp_dir and "model-f32.gguf" not in meta["gguf"]:
            hf = Path(td) / "hf"
            hf.mkdir()
            for f in ("config.json", "generation_config.json", "model.safetensors"):
                (hf / f).write_bytes((d / f).read_bytes())
            arch = {"gemma3_text": "Gemma3ForCausalLM",
                    "gemma4_unified": "Gemma4UnifiedForConditionalGeneration"}.get(name, "Gemma4ForCausalLM")
            gmf.convert_gguf(Path(llama_cpp_dir), hf, name, arch, Path(td) / "f32.gguf", "f32")
            files.append(("(temporary F32 re-conversion)", Path(td) / "f32.gguf"))
        for label, path in files:
            lg = _run_tiny(path, ids)
            r = {"max_abs_diff_vs_hf_f32": float(np.max(np.abs(lg - ref))),
                 "mean_abs_diff_vs_hf_f32": float(np.mean(np.abs(lg - ref))),
                 "max_abs_diff_position0": float(np.max(np.abs(lg[0] - ref[0]))),
                 "top1_agree": float(np.mean(lg.argmax(1) == ref.argmax(1)))}
            res[f"{name}/{label}"] = r
            print(name, label, r)
    (Path(out) / "tiny_crosscheck.json").write_text(json.dumps({
        "note": "llama.cpp (this commit) on the tiny GGUF fixtures vs HF logits_f32.bin; one batch of 48 tokens, "
                "2 threads, F32 KV cache. Not a fixture for g4: evidence that the GGUF copies mean the same model.",
        "llama_cpp_commit": LLAMA_CPP_COMMIT, "results": res}, indent=1) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=os.path.expanduser("~/.cache/g4/gemma-3-270m-q4_k_m.gguf"))
    ap.add_argument("--out", default="tests/fixtures/llamacpp")
    ap.add_argument("--tiny", default="tests/fixtures/models",
                    help="also run llama.cpp on the tiny GGUF fixtures found here ('' to skip)")
    ap.add_argument("--llama-cpp", default=os.environ.get("LLAMA_CPP_DIR"),
                    help="llama.cpp checkout, for temporary F32 re-conversions in the tiny cross-check")
    args = ap.parse_args()

    import llama_cpp
    from llama_cpp import Llama
    if llama_cpp.__version__ != PINNED_LLAMA_CPP_PYTHON:
        print(f"warning: llama-cpp-python {llama_cpp.__version__} != {PINNED_LLAMA_CPP_PYTHON}", file=sys.stderr)
    if args.tiny:
        tiny_crosscheck(args.tiny, args.out, args.llama_cpp)

    out = Path(args.out)
    text = (out / "text.txt").read_text(encoding="utf-8")

    llm = Llama(model_path=args.model, n_ctx=2048, n_batch=N_BATCH, n_ubatch=N_BATCH,
                n_threads=N_THREADS, n_threads_batch=N_THREADS, logits_all=True,
                use_mmap=True, verbose=False, seed=0,
                type_k=0, type_v=0)   # F32 KV cache: llama.cpp's default F16 cache adds ~1e-3 error
    n_vocab = llm.n_vocab()

    # ---- (1) teacher-forced logits over the whole text in one context -----
    toks = llm.tokenize(text.encode("utf-8"), add_bos=True, special=False)
    assert len(toks) <= 2048, len(toks)
    (out / "tokens.json").write_text(json.dumps({
        "tokenizer": "llama.cpp (llama_tokenize, add_special=true, parse_special=false)",
        "text_file": "text.txt", "n_tokens": len(toks), "ids": toks}) + "\n")
    llm.reset()
    llm.eval(toks)
    logits = np.array(llm.scores[: len(toks)], dtype=np.float32)     # [T][V]
    top1, gap, lp_next = [], [], []
    for t in range(len(toks)):
        row = logits[t]
        top1.append(int(np.argmax(row)))
        gap.append(top2_gap(row))
        if t + 1 < len(toks):
            lp_next.append(float(log_softmax(row)[toks[t + 1]]))
    nll = -np.array(lp_next)
    (out / "teacher.json").write_text(json.dumps({
        "n_ctx": 2048, "n_batch": N_BATCH, "n_tokens": len(toks),
        "note": "row t = logits after feeding ids[0..t]; logprob_next[t] = log_softmax(row t)[ids[t+1]]",
        "top1": top1, "top2_gap": gap, "logprob_next": lp_next,
        "mean_nll": float(nll.mean()), "ppl_all_positions": float(math.exp(nll.mean())),
    }) + "\n")
    # top-K (id, logit) at a few positions: little-endian, see docs/fixtures.md
    pos = [p if p >= 0 else len(toks) + p for p in TOPK_POSITIONS]
    with open(out / "teacher_top.bin", "wb") as f:
        f.write(struct.pack("<4sIII", b"G4TK", len(pos), TOPK, n_vocab))
        for p in pos:
            row = logits[p]
            idx = np.argsort(-row, kind="stable")[:TOPK]
            f.write(struct.pack("<I", p))
            f.write(idx.astype("<i4").tobytes())
            f.write(row[idx].astype("<f4").tobytes())

    # ---- perplexity the way llama-perplexity computes it ------------------
    # tools/perplexity/perplexity.cpp (perplexity()): tokens = tokenize(text, add_bos);
    # n_chunk = len(tokens) // n_ctx; for chunk i the window is tokens[i*n_ctx:(i+1)*n_ctx]
    # with its first token replaced by BOS; only the second half is scored:
    # first = n_ctx/2, NLL of tokens[start+j+1] given logits at j, j in [first, n_ctx-1).
    chunks = []
    all_nll = []
    n_chunk = len(toks) // PPL_CTX
    for c in range(n_chunk):
        start = c * PPL_CTX
        win = list(toks[start:start + PPL_CTX])
        win[0] = llm.token_bos()
        llm.reset()
        llm.eval(win)
        lg = np.array(llm.scores[:PPL_CTX], dtype=np.float32)
        first = PPL_CTX // 2
        cn = [float(-log_softmax(lg[j])[win[j + 1]]) for j in range(first, PPL_CTX - 1)]
        all_nll += cn
        chunks.append({"start": start, "scored_from": first, "nll": cn,
                       "ppl_running": float(math.exp(np.mean(all_nll)))})
    (out / "perplexity.json").write_text(json.dumps({
        "method": "llama-perplexity: n_ctx=512 windows, BOS at window start, score second half",
        "n_ctx": PPL_CTX, "n_chunk": n_chunk, "n_scored": len(all_nll),
        "ppl": float(math.exp(np.mean(all_nll))), "chunks": chunks}) + "\n")

    # ---- (2) greedy generation ---------------------------------------------
    vocab = llama_cpp.llama_model_get_vocab(llm._model.model)
    eog = [i for i in range(n_vocab) if llama_cpp.llama_vocab_is_eog(vocab, i)]
    assert eog, "no end-of-generation ids found"
    runs = []
    for p in PROMPTS:
        if p["chat"]:
            ptoks = llm.tokenize(chat_wrap(p["text"]).encode(), add_bos=False, special=True)
        else:
            ptoks = llm.tokenize(p["text"].encode(), add_bos=True, special=False)
        llm.reset()
        llm.eval(ptoks)
        gen, gaps, top1_logit = [], [], []
        stopped = None
        for _ in range(N_GEN):
            row = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float32)
            t = int(np.argmax(row))
            gen.append(t)
            gaps.append(top2_gap(row))
            top1_logit.append(float(row[t]))
            if t in eog:
                stopped = t
                break
            llm.eval([t])
        runs.append({"name": p["name"], "chat": p["chat"], "text": p["text"],
                     "prompt_ids": ptoks, "tokens": gen, "top2_gap": gaps,
                     "top1_logit": top1_logit, "stopped_on_eog": stopped,
                     "decoded": llm.detokenize(gen).decode("utf-8", errors="replace")})
    (out / "greedy.json").write_text(json.dumps({
        "sampling": "argmax of raw logits (temperature 0), ties -> lowest id (numpy argmax)",
        "max_new_tokens": N_GEN, "eog_ids": eog, "runs": runs}, indent=1) + "\n")

    meta = {
        "model_file": os.path.basename(args.model),
        "model_size_bytes": os.path.getsize(args.model),
        "llama_cpp_python": llama_cpp.__version__, "llama_cpp_commit": LLAMA_CPP_COMMIT,
        "n_threads": N_THREADS, "n_batch": N_BATCH, "kv_cache_type": "f32", "n_ubatch": N_BATCH, "n_vocab": n_vocab,
        "ppl_ctx": PPL_CTX, "numpy": np.__version__,
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(f"tokens {len(toks)}  ppl(all) {math.exp(nll.mean()):.3f}  "
          f"ppl(llama-perplexity, c={PPL_CTX}) {math.exp(np.mean(all_nll)):.3f}")
    for r in runs:
        print(r["name"], repr(r["decoded"][:70]), "min gap", min(r["top2_gap"]))


if __name__ == "__main__":
    main()
