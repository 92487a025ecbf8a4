#!/usr/bin/env python3
"""Black-box tests of `g4 serve` with the official `openai` Python SDK (plus
raw HTTP for what the SDK cannot send). Needs a running server: env
G4_URL (http://127.0.0.1:PORT), G4_KEY (its API key), G4_MODEL (model id).
Prints one PASS/FAIL line per check; exits 1 if any failed.
Run through tests/scripts/server.sh, which starts and stops the server."""
import json
import os
import socket
import sys
import threading
import time
import urllib.error
import urllib.request

URL = os.environ["G4_URL"]
KEY = os.environ["G4_KEY"]
MODEL = os.environ["G4_MODEL"]
failed = 0


def check(name, cond, detail=""):
    global failed
    if cond:
        print(f"PASS server:{name}")
    else:
        failed += 1
        print(f"FAIL server:{name} {detail}")


def run(name, fn):
    try:
        fn()
    except Exception as e:  # a crash is a failure of that check
        check(name, False, f"{type(e).__name__}: {e}")


def raw(method, path, body=None, headers=None, key=KEY):
    h = {"Content-Type": "application/json"}
    if key:
        h["Authorization"] = "Bearer " + key
    h.update(headers or {})
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    req = urllib.request.Request(URL + path, data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


try:
    import openai
except ImportError:
    check("openai-sdk", False, "the openai package is missing: run scripts/setup.sh --test")
    sys.exit(1)

client = openai.OpenAI(base_url=URL + "/v1", api_key=KEY, max_retries=0, timeout=300)
PARALLEL = int(os.environ.get("G4_PARALLEL", "4"))
MSG = [{"role": "user", "content": "Write one short sentence about the sea."}]


def t_models():
    ms = client.models.list()
    ids = [m.id for m in ms.data]
    check("models-list", ids == [MODEL], str(ids))
    m = client.models.retrieve(MODEL)
    check("models-retrieve", m.id == MODEL and (m.model_extra or {}).get("context_length", 0) > 0, str(m))
    try:
        client.models.retrieve("no-such-model")
        check("models-404", False, "no error")
    except openai.NotFoundError as e:
        check("models-404", e.status_code == 404)


def t_chat():
    r = client.chat.completions.create(model=MODEL, messages=MSG, max_tokens=12, temperature=0.8, seed=42)
    c = r.choices[0]
    check("chat-shape", r.object == "chat.completion" and r.id.startswith("chatcmpl-") and r.model == MODEL
          and r.system_fingerprint and c.message.role == "assistant" and isinstance(c.message.content, str), str(r))
    u = r.usage
    check("chat-usage", u.prompt_tokens > 0 and 0 < u.completion_tokens <= 12
          and u.total_tokens == u.prompt_tokens + u.completion_tokens
          and u.prompt_tokens_details.cached_tokens is not None
          and u.completion_tokens_details.reasoning_tokens == 0, str(u))
    check("chat-finish", c.finish_reason in ("stop", "length"), c.finish_reason)
    # the same seed streamed gives the same text
    s = client.chat.completions.create(model=MODEL, messages=MSG, max_tokens=12, temperature=0.8, seed=42,
                                       stream=True, stream_options={"include_usage": True})
    chunks = list(s)
    text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
    check("stream-equals-nonstream", text == c.message.content, f"{text!r} vs {c.message.content!r}")
    check("stream-role-first", chunks[0].choices[0].delta.role == "assistant")
    fin = [ch for ch in chunks if ch.choices and ch.choices[0].finish_reason]
    check("stream-finish", len(fin) == 1 and fin[0].choices[0].finish_reason == c.finish_reason)
    last = chunks[-1]
    check("stream-usage-last", last.choices == [] and last.usage is not None
          and last.usage.completion_tokens == u.completion_tokens, str(last))
    check("stream-ids", len({ch.id for ch in chunks}) == 1)


def t_length_and_stop():
    r = client.chat.completions.create(model=MODEL, messages=MSG, max_tokens=3, temperature=0)
    check("max-tokens-length", r.choices[0].finish_reason == "length" and r.usage.completion_tokens == 3,
          f"{r.choices[0].finish_reason} {r.usage.completion_tokens}")
    r = client.chat.completions.create(model=MODEL, messages=MSG, max_completion_tokens=16, temperature=0)
    full = r.choices[0].message.content
    words = [w for w in full.split() if len(w) >= 3]
    if not words:
        check("stop-string", False, f"no word to stop on in {full!r}")
        return
    w = words[min(1, len(words) - 1)]
    r2 = client.chat.completions.create(model=MODEL, messages=MSG, max_tokens=16, temperature=0, stop=[w, "zzzz"])
    got = r2.choices[0].message.content
    check("stop-string", got == full[:full.index(w)] and r2.choices[0].finish_reason == "stop",
          f"stop={w!r} got {got!r} full {full!r}")
    s = client.chat.completions.create(model=MODEL, messages=MSG, max_tokens=16, temperature=0, stop=w, stream=True)
    st = "".join(ch.choices[0].delta.content or "" for ch in s if ch.choices)
    check("stop-string-stream", st == got, f"{st!r} vs {got!r}")


def t_errors():
    cases = [
        ("temperature", {"temperature": "hot"}),
        ("n", {"n": 2}),
        ("top_logprobs", {"logprobs": True, "top_logprobs": 50}),
        ("max_tokens", {"max_tokens": -1}),
        ("top_p", {"top_p": 2}),
        ("stop", {"stop": 5}),
        ("logit_bias", {"logit_bias": {"abc": 1}}),
        ("tools", {"tools": "x"}),
        ("response_format", {"response_format": {"type": "bogus"}}),
        ("tool_choice", {"tool_choice": "required"}),
        ("stream", {"stream": "yes"}),
        ("messages[0].role", {"messages": [{"role": "robot", "content": "x"}]}),
    ]
    for param, extra in cases:
        body = {"model": MODEL, "messages": MSG}
        body.update(extra)
        st, _, b = raw("POST", "/v1/chat/completions", body)
        try:
            err = json.loads(b)["error"]
        except Exception:
            err = {}
        check(f"400-{param}", st == 400 and err.get("param") == param and err.get("type") == "invalid_request_error",
              f"{st} {b[:200]!r}")
    try:
        client.chat.completions.create(model=MODEL, messages=MSG, temperature=5)
        check("sdk-badrequest", False, "no error")
    except openai.BadRequestError as e:
        check("sdk-badrequest", e.status_code == 400)
    st, _, b = raw("POST", "/v1/chat/completions", b'{"messages": [')
    check("malformed-json", st == 400 and b"error" in b, f"{st} {b[:100]!r}")
    st, _, b = raw("POST", "/v1/chat/completions", b'{"messages":[{"role":"user","content":"\xff\xfe"}]}')
    check("invalid-utf8", st == 400, f"{st}")
    deep = b'{"messages":' + b"[" * 5000 + b"]" * 5000 + b"}"
    st, _, b = raw("POST", "/v1/chat/completions", deep)
    check("deep-nesting", st == 400, f"{st}")
    st, _, b = raw("POST", "/v1/chat/completions", {"model": MODEL, "messages": [{"role": "user", "content": "x" * 40000}]})
    err = json.loads(b).get("error", {}) if b.startswith(b"{") else {}
    check("context-length", st == 400 and err.get("code") == "context_length_exceeded"
          and "maximum context length is" in err.get("message", ""), f"{st} {b[:200]!r}")
    st, _, b = raw("GET", "/v1/nothing")
    check("404-route", st == 404 and json.loads(b)["error"]["type"], f"{st}")
    st, h, b = raw("GET", "/v1/models", key="wrong")
    check("401-wrong-key", st == 401 and "error" in json.loads(b), f"{st}")
    st, h, b = raw("GET", "/v1/models", key=None)
    check("401-no-key", st == 401, f"{st}")
    bad = openai.OpenAI(base_url=URL + "/v1", api_key="nope", max_retries=0)
    try:
        bad.models.list()
        check("sdk-401", False, "no error")
    except openai.AuthenticationError as e:
        check("sdk-401", e.status_code == 401)
    st, _, b = raw("POST", "/v1/chat/completions", b"x" * (17 << 20))
    check("413-body", st == 413, f"{st}")
    st, _, _ = raw("GET", "/health", key=None)
    check("health-public", st == 200)


def t_special_tokens():
    plain = client.chat.completions.create(model=MODEL, max_tokens=1, temperature=0,
                                           messages=[{"role": "user", "content": "x"}]).usage.prompt_tokens
    spec = client.chat.completions.create(model=MODEL, max_tokens=1, temperature=0,
                                          messages=[{"role": "user", "content": "<end_of_turn>"}]).usage.prompt_tokens
    # as a control token it would be 1 token; as untrusted text it is several
    check("special-untrusted", spec - plain >= 3, f"{plain} {spec}")
    st, _, b = raw("POST", "/tokenize", {"content": "<end_of_turn>"})
    check("tokenize-untrusted", st == 200 and len(json.loads(b)["tokens"]) > 1, f"{st} {b[:100]!r}")
    st, _, b = raw("POST", "/tokenize", {"content": "<end_of_turn>", "parse_special": True})
    ids = json.loads(b)["tokens"]
    check("tokenize-special", st == 200 and len(ids) == 1, f"{b[:100]!r}")
    st, _, b = raw("POST", "/detokenize", {"tokens": ids})
    check("detokenize", st == 200 and json.loads(b)["content"] == "<end_of_turn>", f"{b[:100]!r}")


def t_completions():
    r = client.completions.create(model=MODEL, prompt="The sea is", max_tokens=6, temperature=0)
    check("completions", r.object == "text_completion" and r.choices[0].finish_reason == "length"
          and r.usage.completion_tokens == 6, str(r))
    s = client.completions.create(model=MODEL, prompt="The sea is", max_tokens=6, temperature=0, stream=True)
    text = "".join(c.choices[0].text for c in s if c.choices)
    check("completions-stream", text == r.choices[0].text, f"{text!r} vs {r.choices[0].text!r}")


def t_concurrent():
    # 8 concurrent streams (more than the --parallel slots: the rest wait in
    # the queue) all complete; the greedy ones (temperature 0, even i) give
    # the same tokens as the same request run alone, except from a step where
    # the alone run's top two log-probabilities are a near tie (< 0.05): the
    # batched step's quantized matmuls (M > 1) round differently from M = 1,
    # moving logits by up to ~0.01 on this model (tests/unit/test_batch.c).
    # Seeded sampling (odd i) only has to complete.
    def req(i, stream):
        kw = dict(model=MODEL, messages=[{"role": "user", "content": f"Number {i}? Say something about it."}],
                  max_tokens=12, temperature=0 if i % 2 == 0 else 0.7, seed=i, logprobs=True, top_logprobs=2)
        if not stream:
            r = client.chat.completions.create(**kw)
            return [r.choices[0].finish_reason], r.choices[0].logprobs.content
        s = client.chat.completions.create(stream=True, **kw)
        fins, lps = [], []
        for c in s:
            if c.choices:
                if c.choices[0].logprobs and c.choices[0].logprobs.content:
                    lps += c.choices[0].logprobs.content
                if c.choices[0].finish_reason:
                    fins.append(c.choices[0].finish_reason)
        return fins, lps

    alone = [req(i, False)[1] if i % 2 == 0 else None for i in range(8)]
    results = [None] * 8

    def one(i):
        try:
            results[i] = req(i, True)
        except Exception as e:
            results[i] = e

    ts = [threading.Thread(target=one, args=(i,)) for i in range(8)]
    t0 = time.time()
    for t in ts:
        t.start()
    for t in ts:
        t.join(600)
    dt = time.time() - t0
    check("concurrent-8-streams", all(isinstance(r, tuple) and len(r[0]) == 1 for r in results), str(results))
    bad = []
    for i in range(0, 8, 2):
        if not isinstance(results[i], tuple):
            bad.append(i)
            continue
        a, b = [t.token for t in alone[i]], [t.token for t in results[i][1]]
        k = next((j for j in range(min(len(a), len(b))) if a[j] != b[j]), None)
        if k is None:
            if a != b:
                bad.append(i)
            continue
        top = alone[i][k].top_logprobs
        if len(top) < 2 or top[0].logprob - top[1].logprob >= 0.05:
            bad.append((i, k, a, b))
    check("concurrent-same-as-alone", not bad, str(bad))
    print(f"  (8 concurrent streams in {dt:.1f}s)")


def t_prefix_cache():
    # a long shared history: the second request reuses the first one's KV
    # (usage.prompt_tokens_details.cached_tokens), also when it diverges more
    # than a batch (256) before the end of the cached sequence, which needs a
    # sliding-window checkpoint (Gemma 3 window 512, checkpoints every 512)
    hist = " ".join(f"Item {i} is a {['red', 'blue', 'green'][i % 3]} box." for i in range(120))
    m1 = [{"role": "user", "content": hist + " " + " ".join(f"Note {i}." for i in range(100)) + " Which is item 7?"}]
    m2 = [{"role": "user", "content": hist + " Which is item 9?"}]
    st, _, b = raw("GET", "/metrics")
    hits0 = int(next(l for l in b.decode().splitlines() if l.startswith("g4:prefix_cache_hits_total")).split()[1])
    r1 = client.chat.completions.create(model=MODEL, messages=m1, max_tokens=4, temperature=0)
    r1b = client.chat.completions.create(model=MODEL, messages=m1, max_tokens=4, temperature=0)
    c1 = r1b.usage.prompt_tokens_details.cached_tokens
    check("prefix-cache-repeat", c1 >= r1b.usage.prompt_tokens - 1 and r1b.choices[0].message.content
          == r1.choices[0].message.content, f"{c1} of {r1b.usage.prompt_tokens}")
    r2 = client.chat.completions.create(model=MODEL, messages=m2, max_tokens=4, temperature=0)
    c2 = r2.usage.prompt_tokens_details.cached_tokens
    check("prefix-cache-checkpoint", c2 >= 512 and c2 < r2.usage.prompt_tokens, f"{c2} of {r2.usage.prompt_tokens}")
    st, _, b = raw("GET", "/metrics")
    hits = int(next(l for l in b.decode().splitlines() if l.startswith("g4:prefix_cache_hits_total")).split()[1])
    check("prefix-cache-metrics", hits >= hits0 + 2, f"{hits0} -> {hits}")


def t_disconnect():
    # long streams abandoned after the first chunks, one per slot, must be
    # cancelled: their slots free up and the next request completes at once
    host, port = URL.split("//")[1].split(":")
    body = json.dumps({"model": MODEL, "messages": MSG, "max_tokens": 2000, "stream": True}).encode()
    socks = []
    for _ in range(PARALLEL):
        s = socket.create_connection((host, int(port)))
        s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + KEY.encode() +
                  b"\r\nContent-Type: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n"
                  + body)
        socks.append(s)
    for s in socks:
        got = b""
        while got.count(b"data:") < 3:
            got += s.recv(4096)
        s.close()
    t0 = time.time()
    r = client.chat.completions.create(model=MODEL, messages=MSG, max_tokens=2, temperature=0)
    dt = time.time() - t0
    check("disconnect-cancels", r.choices[0].finish_reason in ("length", "stop") and dt < 20, f"{dt:.1f}s")
    busy = None
    for _ in range(30):
        st, _, b = raw("GET", "/metrics")
        busy = int(next(l for l in b.decode().splitlines() if l.startswith("g4:requests_processing")).split()[1])
        if busy == 0:
            break
        time.sleep(0.1)
    check("disconnect-frees-slots", busy == 0, f"busy {busy}")


def t_structured():
    schema = {"type": "object", "properties": {"answer": {"type": "boolean"}}, "required": ["answer"],
              "additionalProperties": False}
    r = client.chat.completions.create(model=MODEL, max_tokens=64, temperature=0,
                                       messages=[{"role": "user", "content": "Is water wet? Answer in JSON."}],
                                       response_format={"type": "json_schema",
                                                        "json_schema": {"name": "a", "strict": True, "schema": schema}})
    c = r.choices[0]
    if c.finish_reason == "stop":
        v = json.loads(c.message.content)
        check("json-schema", set(v) == {"answer"} and isinstance(v["answer"], bool), c.message.content)
    else:  # cut by max_tokens: still only JSON text so far
        check("json-schema", c.message.content.lstrip().startswith("{"), repr(c.message.content))
    try:
        client.chat.completions.create(model=MODEL, messages=MSG, max_tokens=4, response_format={
            "type": "json_schema", "json_schema": {"name": "s", "schema": {"type": "string", "pattern": "^a$"}}})
        check("json-schema-unsupported", False, "no error")
    except openai.BadRequestError as e:
        check("json-schema-unsupported", e.status_code == 400 and "pattern" in str(e), str(e))


def t_queue_ping_and_cors():
    # B waits behind A (one stream per slot) in the queue: its headers and role chunk arrive at once,
    # then ": ping" comments (server runs with --ping 1) until it is served
    host, port = URL.split("//")[1].split(":")

    def open_stream(max_tokens):
        body = json.dumps({"model": MODEL, "messages": MSG, "max_tokens": max_tokens, "stream": True,
                           "temperature": 0}).encode()
        s = socket.create_connection((host, int(port)))
        s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + KEY.encode() +
                  b"\r\nContent-Type: application/json\r\nContent-Length: " + str(len(body)).encode() +
                  b"\r\n\r\n" + body)
        return s

    # A's streams are long enough that B must wait several ping periods
    # whatever the machine's speed; they are cancelled (closed) once B has
    # seen a ping, or after 10 s, which frees the slots for B.
    a = [open_stream(400) for _ in range(PARALLEL)]  # every slot busy
    time.sleep(0.3)
    b = open_stream(2)
    b.settimeout(60)
    got = b""
    t0 = time.time()
    while b"[DONE]" not in got and time.time() - t0 < 120:
        if a and (b": ping" in got or time.time() - t0 > 10):
            for x in a:
                x.close()
            a = []
        chunk = b.recv(65536)
        if not chunk:
            break
        got += chunk
    for x in a:
        x.close()
    b.close()
    check("early-headers", got.startswith(b"HTTP/1.1 200") and b"text/event-stream" in got, repr(got[:200]))
    check("sse-ping-while-queued", b": ping" in got and got.index(b'"role":"assistant"') < got.index(b": ping"),
          repr(got[:600]))
    st, h, _ = raw("OPTIONS", "/v1/chat/completions", headers={"Origin": "http://allowed.test",
                                                               "Access-Control-Request-Method": "POST"}, key=None)
    check("cors-preflight", st == 204 and h.get("Access-Control-Allow-Origin") == "http://allowed.test", f"{st} {h}")
    st, h, _ = raw("GET", "/v1/models", headers={"Origin": "http://allowed.test"})
    check("cors-allowed", h.get("Access-Control-Allow-Origin") == "http://allowed.test", str(h))
    st, h, _ = raw("GET", "/v1/models", headers={"Origin": "http://evil.test"})
    check("cors-other", "Access-Control-Allow-Origin" not in h, str(h))


def t_logprobs():
    r = client.chat.completions.create(model=MODEL, messages=MSG, max_tokens=5, temperature=0, logprobs=True,
                                       top_logprobs=3)
    lp = r.choices[0].logprobs.content
    check("logprobs-count", len(lp) == r.usage.completion_tokens == 5, f"{len(lp)} {r.usage.completion_tokens}")
    check("logprobs-greedy-top1", all(len(t.top_logprobs) == 3 and t.top_logprobs[0].token == t.token
                                       and abs(t.top_logprobs[0].logprob - t.logprob) < 1e-6 and t.logprob <= 0
                                       and t.top_logprobs[1].logprob <= t.top_logprobs[0].logprob for t in lp), str(lp))
    check("logprobs-text", "".join(t.token for t in lp) == r.choices[0].message.content,
          f"{[t.token for t in lp]} {r.choices[0].message.content!r}")
    s = client.chat.completions.create(model=MODEL, messages=MSG, max_tokens=5, temperature=0, logprobs=True,
                                       top_logprobs=3, stream=True)
    sl = [t for ch in s if ch.choices and ch.choices[0].logprobs for t in ch.choices[0].logprobs.content]
    check("logprobs-stream", [t.token for t in sl] == [t.token for t in lp]
          and all(abs(a.logprob - b.logprob) < 1e-6 for a, b in zip(sl, lp)), str(sl))


def t_metrics():
    st, _, b = raw("GET", "/metrics")
    t = b.decode()
    check("metrics", st == 200 and "g4:requests_total" in t and "g4:tokens_predicted_total" in t
          and "g4:kv_cache_usage_ratio" in t and "g4:prefix_cache_hits_total" in t, t[:200])


for name, fn in [("models", t_models), ("chat", t_chat), ("length-stop", t_length_and_stop), ("errors", t_errors),
                 ("special", t_special_tokens), ("structured", t_structured), ("logprobs", t_logprobs), ("completions", t_completions), ("concurrent", t_concurrent), ("prefix-cache", t_prefix_cache),
                 ("disconnect", t_disconnect), ("queue-ping-cors", t_queue_ping_and_cors), ("metrics", t_metrics)]:
    run(name, fn)
sys.exit(1 if failed else 0)
