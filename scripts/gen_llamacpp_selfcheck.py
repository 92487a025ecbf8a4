#!/usr/bin/env python3
"""How well llama.cpp agrees with itself on the real Gemma 3 270M Q4_K_M.

The llama.cpp fixtures (gen_llamacpp_reference.py) were made with
llama-cpp-python's default flash_attn=False.  This script runs the same file
and text with llama.cpp's other CPU attention path, flash_attn=True (same
weights, same quantized matmuls; attention through f16 K/V with an f16 V
accumulator), and measures against the committed fixtures:

  * teacher-forced top-1 agreement over the whole text, and the llama.cpp
    top-2 gap at every disagreeing position;
  * greedy continuations of the same 5 prompts: the first step where the two
    llama.cpp runs differ and the top-2 gap there.

That is the noise floor of "agreement with llama.cpp" on this model: two
llama.cpp configurations that both compute the same network disagree this
often.  tests/unit/test_decoder_real.c takes its thresholds from it.
Writes tests/fixtures/llamacpp/self_agreement.json.
"""
import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import gen_llamacpp_reference as ref  # noqa: E402  (PROMPTS, chat_wrap, top2_gap, pins)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=os.path.expanduser("~/.cache/g4/gemma-3-270m-q4_k_m.gguf"))
    ap.add_argument("--fixtures", default="tests/fixtures/llamacpp")
    args = ap.parse_args()

    import llama_cpp
    from llama_cpp import Llama
    fx = Path(args.fixtures)
    toks = json.loads((fx / "tokens.json").read_text())["ids"]
    teacher = json.loads((fx / "teacher.json").read_text())
    greedy = json.loads((fx / "greedy.json").read_text())

    llm = Llama(model_path=args.model, n_ctx=2048, n_batch=ref.N_BATCH, n_ubatch=ref.N_BATCH,
                n_threads=ref.N_THREADS, n_threads_batch=ref.N_THREADS, logits_all=True,
                use_mmap=True, verbose=False, seed=0, type_k=0, type_v=0, flash_attn=True)
    llm.reset()
    llm.eval(toks)
    logits = np.array(llm.scores[: len(toks)], dtype=np.float32)
    top1 = logits.argmax(1)
    want = np.array(teacher["top1"])
    gaps_ref = np.array(teacher["top2_gap"])
    dis = np.nonzero(top1 != want)[0]
    n1024 = min(1024, len(toks))
    teach = {
        "n_positions": len(toks),
        "top1_agree": float(np.mean(top1 == want)),
        "top1_agree_first_1024": float(np.mean(top1[:n1024] == want[:n1024])),
        "n_disagree": int(len(dis)),
        "max_fixture_gap_at_disagreement": float(gaps_ref[dis].max()) if len(dis) else 0.0,
        "median_fixture_gap_at_disagreement": float(np.median(gaps_ref[dis])) if len(dis) else 0.0,
        "top1_flash_attn": [int(t) for t in top1],
    }

    runs = []
    for p, g in zip(ref.PROMPTS, greedy["runs"]):
        assert p["name"] == g["name"]
        ptoks = g["prompt_ids"]
        llm.reset()
        llm.eval(ptoks)
        first_diff, gap_at = None, None
        for i, want_t in enumerate(g["tokens"]):
            row = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float32)
            t = int(np.argmax(row))
            if t != want_t:
                first_diff, gap_at = i, g["top2_gap"][i]
                break
            llm.eval([t])
        runs.append({"name": g["name"], "n_fixture_tokens": len(g["tokens"]),
                     "first_difference": first_diff, "fixture_top2_gap_there": gap_at})
        print(g["name"], "first difference", first_diff, "gap", gap_at)

    out = {
        "what": "llama.cpp flash_attn=True vs the committed fixtures (llama.cpp flash_attn=False); same file, "
                "threads, batch, F32 KV cache",
        "llama_cpp_python": llama_cpp.__version__, "llama_cpp_commit": ref.LLAMA_CPP_COMMIT,
        "teacher": teach, "greedy": runs,
    }
    (fx / "self_agreement.json").write_text(json.dumps(out) + "\n")
    print(f"teacher top-1 agreement {teach['top1_agree'] * 100:.2f}% "
          f"({teach['n_disagree']} of {len(toks)}), max fixture gap at a disagreement "
          f"{teach['max_fixture_gap_at_disagreement']:.3f}")


if __name__ == "__main__":
    main()
