#!/usr/bin/env python3
"""bench_batch.py — continuous-batching numbers for `g4 serve` (stdlib only).

Starts nothing: point it at a running server (G4_URL, G4_KEY). Reports
aggregate generated tokens/s with 1, 2, 4, 8 concurrent streaming clients
(greedy, fixed max_tokens, distinct prompts), and time to first token for a
repeated ~2,000-token prompt: the first request (cold: full prefill) and a
repeat (prefix cache: only the last token runs). With G4_BENCH_ITL=1 it
also measures what a long prefill does to a running stream: client A
streams G4_BENCH_ITL_TOKENS tokens; once A is decoding, client B sends a
~2,000-token prompt; printed are A's inter-token latency (median, and the
worst gap while B's prompt goes in) and B's time to first token. Compare
`g4 serve --prefill-chunk N` settings (g4 mixes N prompt rows into each
decode step while other streams run).
"""
import json
import os
import threading
import time
import urllib.request

URL = os.environ.get("G4_URL", "http://127.0.0.1:8080")
KEY = os.environ.get("G4_KEY", "")
N_TOK = int(os.environ.get("G4_BENCH_TOKENS", "32"))


def model_id():
    req = urllib.request.Request(URL + "/v1/models", headers={"Authorization": "Bearer " + KEY})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.load(r)["data"][0]["id"]


MODEL = None


def stream(messages, max_tokens):
    body = json.dumps({"model": MODEL, "messages": messages, "max_tokens": max_tokens, "temperature": 0,
                       "stream": True, "stream_options": {"include_usage": True}}).encode()
    req = urllib.request.Request(URL + "/v1/chat/completions", body, {"Content-Type": "application/json",
                                                                      "Authorization": "Bearer " + KEY})
    t0 = time.time()
    ttft, usage = None, None
    with urllib.request.urlopen(req, timeout=600) as r:
        for line in r:
            if not line.startswith(b"data: {"):
                continue
            ev = json.loads(line[6:])
            if ev.get("usage"):
                usage = ev["usage"]
            ch = ev.get("choices") or []
            if ttft is None and ch and ch[0]["delta"].get("content"):
                ttft = time.time() - t0
    return ttft, time.time() - t0, usage


def throughput(n):
    out = [None] * n

    def one(i):
        out[i] = stream([{"role": "user", "content": f"Tell me a story about the number {i + 10 * n}."}], N_TOK)

    ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    t0 = time.time()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    dt = time.time() - t0
    toks = sum(u["completion_tokens"] for _, _, u in out)
    return toks / dt, toks, dt


def itl_under_prefill(hist):
    """A streams; B's long prompt arrives; A's gaps and B's TTFT."""
    n_a = int(os.environ.get("G4_BENCH_ITL_TOKENS", "160"))
    times = []
    started = threading.Event()

    def a():
        body = json.dumps({"model": MODEL, "max_tokens": n_a, "temperature": 0, "stream": True,
                           "messages": [{"role": "user", "content": "Count slowly from one to one hundred."}]})
        req = urllib.request.Request(URL + "/v1/chat/completions", body.encode(),
                                     {"Content-Type": "application/json", "Authorization": "Bearer " + KEY})
        with urllib.request.urlopen(req, timeout=600) as r:
            for line in r:
                if line.startswith(b"data: {") and b'"content"' in line:
                    times.append(time.time())
                    if len(times) == 8:
                        started.set()
        started.set()

    ta = threading.Thread(target=a)
    ta.start()
    started.wait()
    t_b = time.time()
    ttft_b, _, u = stream([{"role": "user", "content": hist + " Which box holds the fewest coins?"}], 4)
    t_b_first = t_b + (ttft_b or 0)
    ta.join()
    gaps = [b - a for a, b in zip(times, times[1:])]
    during = [b - a for a, b in zip(times, times[1:]) if b > t_b and a < t_b_first]
    gaps.sort()
    med = gaps[len(gaps) // 2] if gaps else float("nan")
    worst = max(during) if during else float("nan")
    print(f"ITL of a running stream: median {med * 1000:.0f} ms, worst while a {u['prompt_tokens']}-token prompt "
          f"is prefilled {worst * 1000:.0f} ms ({len(during)} gaps); that prompt's TTFT {ttft_b:.2f}s")


def main():
    global MODEL
    MODEL = model_id()
    if os.environ.get("G4_BENCH_ITL"):
        hist = " ".join(f"Item {i}: the {['red', 'blue', 'green', 'white'][i % 4]} box holds {i * 5 % 11} coins."
                        for i in range(150))
        stream([{"role": "user", "content": "warm up"}], 4)
        itl_under_prefill(hist)
        return
    stream([{"role": "user", "content": "warm up"}], 4)
    for n in (1, 2, 4, 8):
        tps, toks, dt = throughput(n)
        print(f"clients {n}: {toks} tokens in {dt:.2f}s = {tps:.1f} tok/s aggregate")
    hist = " ".join(f"Line {i}: the {['red', 'blue', 'green', 'white'][i % 4]} box holds {i * 7 % 13} coins."
                    for i in range(150))
    msgs = [{"role": "user", "content": hist + " Which box holds the most coins?"}]
    t_cold, _, u1 = stream(msgs, 4)
    t_warm, _, u2 = stream(msgs, 4)
    c = (u2.get("prompt_tokens_details") or {}).get("cached_tokens")
    print(f"prompt {u1['prompt_tokens']} tokens: TTFT cold {t_cold:.2f}s, repeated (cached_tokens {c}) {t_warm:.3f}s")


if __name__ == "__main__":
    main()
