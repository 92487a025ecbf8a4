#!/usr/bin/env python3
"""gen_ppl_fixtures.py — reference perplexity of tests/fixtures/ppl/sample.txt
with llama.cpp (through llama-cpp-python), computed exactly as llama.cpp's
tools/perplexity does: tokenize with BOS (no special parsing), chunks of
n_ctx tokens, the first token of each chunk replaced by BOS, the second half
of each chunk scored, PPL = exp(mean NLL). Writes
tests/fixtures/ppl/llamacpp.json with the numbers, the llama.cpp version and
the token count. Needs: pip install llama-cpp-python; the GGUF from
scripts/setup.sh (or G4_GEMMA3_GGUF). Not needed to build or test g4.
"""
import json, math, os, sys

import numpy as np
from llama_cpp import Llama, __version__ as llama_cpp_version

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEXT = os.path.join(ROOT, "tests/fixtures/ppl/sample.txt")
OUT = os.path.join(ROOT, "tests/fixtures/ppl/llamacpp.json")
GGUF = os.environ.get("G4_GEMMA3_GGUF") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "g4/gemma-3-270m-q4_k_m.gguf")


def perplexity(llm, tokens, n_ctx):
    n_chunk = len(tokens) // n_ctx
    first = n_ctx // 2
    bos = llm.token_bos()
    nll = nll2 = 0.0
    count = 0
    running = []
    for c in range(n_chunk):
        chunk = list(tokens[c * n_ctx:(c + 1) * n_ctx])
        chunk[0] = bos
        llm.reset()
        llm.eval(chunk)
        logits = np.array(llm.scores[:n_ctx], dtype=np.float32)
        for j in range(first, n_ctx - 1):
            row = logits[j]
            mx = row.max()
            s = float(np.sum(np.exp(row - mx), dtype=np.float64))
            v = -(float(row[tokens[c * n_ctx + j + 1]] - mx) - math.log(s))
            nll += v
            nll2 += v * v
            count += 1
        running.append(round(math.exp(nll / count), 4))
    mean = nll / count
    var = nll2 / count - mean * mean
    ppl = math.exp(mean)
    return {"n_ctx": n_ctx, "n_chunks": n_chunk, "n_scored": count, "ppl": ppl,
            "ppl_err": math.sqrt(var / (count - 1)) * ppl, "running": running}


def main():
    text = open(TEXT, "rb").read()
    llm = Llama(model_path=GGUF, n_ctx=512, n_batch=512, logits_all=True, verbose=False)
    tokens = llm.tokenize(text, add_bos=True, special=False)
    res = {"model": os.path.basename(GGUF), "text": "tests/fixtures/ppl/sample.txt",
           "llama_cpp_python": llama_cpp_version, "n_tokens": len(tokens), "runs": []}
    for n_ctx in (128,):
        res["runs"].append(perplexity(llm, tokens, n_ctx))
    json.dump(res, open(OUT, "w"), indent=1)
    print(json.dumps(res))


if __name__ == "__main__":
    sys.exit(main())
