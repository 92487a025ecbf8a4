#!/usr/bin/env python3
"""compare.py — encode speed: g4's tokenizer vs HF `tokenizers`, both single-threaded.

Builds bench/tokenizer/bench_tok.c against build/libg4.a (run `make` first),
then encodes the same corpus (default: the fixture corpus, 5,200 strings, plus
--long copies of it joined into one long text) with both and prints mean and
spread over --reps repetitions. HF runs with RAYON_NUM_THREADS=1 and
TOKENIZERS_PARALLELISM=false; it is timed two ways: a Python loop of
Tokenizer.encode (what a Python server would do), and encode_batch (no
per-call Python overhead, still one thread). Ids are compared too.

  python3 bench/tokenizer/compare.py [--tokenizer DIR_OR_GGUF] [--hf-json PATH] [--reps N]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
from tokenizers import Tokenizer  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def stats(xs):
    m = statistics.mean(xs)
    return m, (statistics.stdev(xs) if len(xs) > 1 else 0.0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokenizer", default="/work/shared/data/gemma3-tokenizer",
                    help="directory with tokenizer.json (or a GGUF) for g4")
    ap.add_argument("--hf-json", default=None, help="tokenizer.json for HF (default: TOKENIZER/tokenizer.json)")
    ap.add_argument("--corpus", default=os.path.join(ROOT, "tests/fixtures/tokenizer/corpus.jsonl"))
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--long", type=int, default=4, help="copies of the corpus joined into one long document")
    args = ap.parse_args()
    hf_json = args.hf_json or os.path.join(args.tokenizer, "tokenizer.json")

    strings = [json.loads(l) for l in open(args.corpus, encoding="utf-8")]
    if args.long:
        strings.append("\n".join(strings) * args.long)
    tmp = tempfile.mkdtemp()
    corpus = os.path.join(tmp, "corpus.jsonl")
    with open(corpus, "w", encoding="utf-8") as f:
        for s in strings:
            f.write(json.dumps(s, ensure_ascii=False) + "\n")
    nbytes = sum(len(s.encode("utf-8")) for s in strings)

    exe = os.path.join(tmp, "bench_tok")
    cc = os.environ.get("CC", "cc")
    subprocess.check_call([cc, "-std=c11", "-D_GNU_SOURCE", "-O2", "-I" + os.path.join(ROOT, "include"),
                           "-I" + os.path.join(ROOT, "src"), os.path.join(ROOT, "bench/tokenizer/bench_tok.c"),
                           os.path.join(ROOT, "build/libg4.a"), "-ljansson", "-lm", "-pthread", "-o", exe])
    out = subprocess.check_output([exe, args.tokenizer, corpus, str(args.reps)], text=True)
    runs = [json.loads(l) for l in out.splitlines()]
    g4_secs = [r["seconds"] for r in runs]
    g4_tokens = runs[0]["tokens"]

    t0 = time.perf_counter()
    tok = Tokenizer.from_file(hf_json)
    hf_load = time.perf_counter() - t0
    loop_secs, batch_secs, hf_tokens = [], [], 0
    for _ in range(args.reps):
        a = time.perf_counter()
        n = 0
        for s in strings:
            n += len(tok.encode(s, add_special_tokens=False).ids)
        loop_secs.append(time.perf_counter() - a)
        hf_tokens = n
        a = time.perf_counter()
        tok.encode_batch(strings, add_special_tokens=False)
        batch_secs.append(time.perf_counter() - a)

    mb = nbytes / 1e6
    print("corpus: %d strings, %.2f MB (incl. one %.2f MB document), %d reps" %
          (len(strings), mb, len(strings[-1].encode()) / 1e6 if args.long else 0, args.reps))
    print("tokens: g4 %d, HF %d (%s)" % (g4_tokens, hf_tokens, "same count" if g4_tokens == hf_tokens else "DIFFERENT"))
    for name, xs in (("g4 (C, 1 thread)", g4_secs), ("HF encode loop (1 thread)", loop_secs),
                     ("HF encode_batch (1 thread)", batch_secs)):
        m, sd = stats(xs)
        print("  %-28s %8.3f s ± %.3f   %7.2f MB/s   %9.0f tokens/s" % (name, m, sd, mb / m, g4_tokens / m))
    print("  speed-up of g4: x%.2f vs encode loop, x%.2f vs encode_batch" %
          (stats(loop_secs)[0] / stats(g4_secs)[0], stats(batch_secs)[0] / stats(g4_secs)[0]))
    print("load: g4 %.2f s, HF %.2f s" % (runs[0]["load_seconds"], hf_load))


if __name__ == "__main__":
    sys.exit(main())
