#!/usr/bin/env python3
"""bench_batch.py — continuous-batching numbers for `g4 serve` (stdlib only).

Starts nothing: point it at a running server (G4_URL, G4_KEY). Reports
aggregate generated tokens/s with 1, 2, 4, 8 concurrent streaming clients
(greedy, fixed max_tokens, distinct prompts), and time to first token for a
repeated ~2,000-token prompt: the first request (cold: full prefill) and a
repeat (prefix cache: only the last token runs).
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


def main():
    global MODEL
    MODEL = model_id()
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
