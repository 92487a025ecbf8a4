#!/usr/bin/env python3
"""Server benchmark: g4 serve next to llama.cpp's server (llama-cpp-python,
`python3 -m llama_cpp.server`) on the same GGUF, same thread count.

Measures, per server:
  * aggregate generated tokens/s with 1, 2, 4 and 8 concurrent clients (each
    client sends one chat request, greedy, max_tokens N; aggregate = sum of
    completion_tokens / wall time from the first send to the last answer);
  * time to first token (streamed) for a ~2,000-token prompt: cold (a prefix
    the server has never seen) and warm (the same 2,000-token prefix again with
    a different last question, so a prefix cache can skip the prefill).
llama-cpp-python is given --chat_format gemma (its default, the GGUF's jinja
template, answered with an immediate end of turn here). Prints a markdown
table. Every request carries logit_bias -100 on <eos> (1) and <end_of_turn>
(106), so both servers generate exactly max_tokens tokens (Gemma 3 ids;
--no-bias for other models). `uptime` is printed before each server's run:
on a shared machine, compare numbers taken at similar loads. Usage:
  python3 bench/server/compare.py [--model FILE] [--threads 2] [--max-tokens 32]
      [--g4 build/g4] [--no-llama]
Needs only the Python standard library (+ llama_cpp[server] for the
llama.cpp column). Timings on a shared machine are noisy: run it idle."""
import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_ready(url, proc, timeout=300):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc.poll() is not None:
            raise SystemExit(f"server exited ({proc.returncode})")
        try:
            with urllib.request.urlopen(url + "/v1/models", timeout=2) as r:
                if r.status == 200:
                    return
        except Exception:
            pass
        time.sleep(0.5)
    raise SystemExit("server not ready")


def post(url, body, stream=False):
    req = urllib.request.Request(url + "/v1/chat/completions", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json", "Authorization": "Bearer x"})
    return urllib.request.urlopen(req, timeout=900)


BIAS = {"1": -100, "106": -100}


def chat(url, model, prompt, max_tokens):
    body = {"model": model, "messages": [{"role": "user", "content": prompt}], "max_tokens": max_tokens,
            "temperature": 0}
    if BIAS:
        body["logit_bias"] = BIAS
    with post(url, body) as r:
        return json.loads(r.read())["usage"]["completion_tokens"]


def ttft(url, model, prompt):
    body = {"model": model, "messages": [{"role": "user", "content": prompt}], "max_tokens": 4,
            "temperature": 0, "stream": True}
    t0 = time.time()
    with post(url, body) as r:
        for line in r:
            if not line.startswith(b"data: ") or line.strip() == b"data: [DONE]":
                continue
            d = json.loads(line[6:])
            ch = d.get("choices") or [{}]
            if (ch[0].get("delta") or {}).get("content"):
                dt = time.time() - t0
                r.read()
                return dt
    return time.time() - t0


PROMPTS = ["Write a long story about a lighthouse keeper.", "Explain how rain forms, step by step.",
           "List twenty animals and one fact about each.", "Describe a day in a busy city market.",
           "Write a poem about the sea, then explain it.", "Explain how a bicycle works in detail.",
           "Tell the history of writing systems.", "Describe how to bake bread, every step."]


def throughput(url, model, n, max_tokens):
    toks = [0] * n

    def one(i):
        toks[i] = chat(url, model, PROMPTS[i % len(PROMPTS)], max_tokens)
    th = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    t0 = time.time()
    for t in th:
        t.start()
    for t in th:
        t.join()
    return sum(toks) / (time.time() - t0)


def long_prefix(tag):
    # ~2,000 tokens of varied text (1,933 with the question, Gemma 3 tokenizer)
    words = []
    for i in range(75):
        words.append(f"Paragraph {i} of note {tag}: the keeper wrote that ship number {i * 7} passed the rocks at dawn.")
    return " ".join(words)


def bench(name, url, model, args):
    row = {"server": name, "uptime": subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()}
    print(f"# {name}: {row['uptime']}", file=sys.stderr)
    chat(url, model, "Hello", 4)                         # warm-up (page in the weights)
    for n in (1, 2, 4, 8):
        row[f"tps{n}"] = throughput(url, model, n, args.max_tokens)
        print(f"# {name}: {n} clients {row[f'tps{n}']:.1f} tok/s", file=sys.stderr)
    pre = long_prefix(name)
    row["ttft_cold"] = ttft(url, model, pre + "\nQuestion A: which ship passed first?")
    row["ttft_warm"] = ttft(url, model, pre + "\nQuestion B: which ship passed last?")
    print(f"# {name}: ttft cold {row['ttft_cold']:.2f}s warm {row['ttft_warm']:.2f}s", file=sys.stderr)
    return row


def run_server(cmd, url, env=None):
    log = tempfile.TemporaryFile()
    p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        wait_ready(url, p)
    except SystemExit:
        p.kill()
        log.seek(0)
        sys.stderr.write(log.read().decode(errors="replace")[-2000:])
        raise
    return p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.expanduser("~/.cache/g4/gemma-3-270m-q4_k_m.gguf"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--ctx", type=int, default=4096)
    ap.add_argument("--g4", default="build/g4")
    ap.add_argument("--no-llama", action="store_true")
    ap.add_argument("--no-bias", action="store_true")
    ap.add_argument("--parallel", type=int, default=4)
    args = ap.parse_args()
    global BIAS
    if args.no_bias:
        BIAS = None
    rows = []
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    p = run_server([args.g4, "serve", "-m", args.model, "--host", "127.0.0.1", "--port", str(port), "--alias", "m",
                    "--threads", str(args.threads), "--ctx", str(args.ctx), "--parallel", str(args.parallel)], url)
    try:
        rows.append(bench("g4 serve", url, "m", args))
    finally:
        p.terminate()
        p.wait()
    if not args.no_llama:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        p = run_server([sys.executable, "-m", "llama_cpp.server", "--model", args.model, "--n_threads",
                        str(args.threads), "--n_ctx", str(args.ctx), "--port", str(port), "--host", "127.0.0.1",
                        "--chat_format", "gemma"], url)
        try:
            rows.append(bench("llama.cpp (llama-cpp-python server)", url, args.model, args))
        finally:
            p.terminate()
            p.wait()
    print(f"model {os.path.basename(args.model)}, {args.threads} threads, max_tokens {args.max_tokens}, greedy, "
          f"g4 --parallel {args.parallel}\n")
    for r in rows:
        print(f"- {r['server']}: {r['uptime']}")
    print()
    print("| server | 1 client tok/s | 2 clients | 4 clients | 8 clients | TTFT 2k prefix cold (s) | TTFT 2k prefix warm (s) |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['server']} | {r['tps1']:.1f} | {r['tps2']:.1f} | {r['tps4']:.1f} | {r['tps8']:.1f} "
              f"| {r['ttft_cold']:.2f} | {r['ttft_warm']:.2f} |")


if __name__ == "__main__":
    main()
