#!/usr/bin/env python3
"""gen_chat_fixtures.py — renders chat-format fixtures for tests/unit/test_chat.c.

The reference is Hugging Face `transformers` `apply_chat_template(tokenize=False)`
(which renders with jinja2's ImmutableSandboxedEnvironment(trim_blocks,
lstrip_blocks, loopcontrols), HF's raise_exception/tojson, drops None-valued
message keys and aliases reasoning/thinking to reasoning_content), run on:

  gemma3: the `chat_template` of the Gemma 3 tokenizer_config.json
  gemma4: the official Gemma 4 31B-it template (the 12B uses it too), whose
          path is given on the command line; it is not committed (third-party
          source). Its origin and sha256 are recorded in the fixture file.

Before rendering, each conversation goes through the g4 OpenAI normalisation
(`g4_normalize` below, mirrored by src/tokenizer/chat.c): content-part types
image_url/input_audio/video_url become image/audio/video, and tool-call
`arguments` given as a JSON string that parses to an object become that object.

Usage:
  python3 scripts/gen_chat_fixtures.py --gemma4-template /tmp/gemma4-31B-it.jinja \
      --gemma4-source 'ggml-org/llama.cpp models/templates/google-gemma-4-31B-it-interleaved.jinja @3240d8f9' \
      [--gemma3-tokenizer /work/shared/data/gemma3-tokenizer] [--out tests/fixtures/chat]
"""
import argparse
import copy
import hashlib
import json
import os
import random

from transformers import AutoTokenizer

# Why this copy: the 12B conversion script (transformers
# gemma4_unified/convert_gemma4_unified_weights.py, _CHAT_TEMPLATE) downloads
# chat_template.jinja from gemma-4-31B-it; llama.cpp keeps that file as
# models/templates/google-gemma-4-31B-it-interleaved.jinja. llama.cpp's older
# models/templates/gemma4.jinja (@75f1ba73, E4B-era) differs: '<|think|>' with
# no newline, no re-emission of reasoning_content for tool-call turns after the
# last user turn, a '<|turn>' header even after a tool response, and a
# list-valued JSON-schema 'type' reduced to its first element.
GEMMA4_NOTES = ("google/gemma-4-31B-it chat_template.jinja, used by the 12B (transformers "
                "convert_gemma4_unified_weights.py _CHAT_TEMPLATE); llama.cpp's older gemma4.jinja differs "
                "(no newline after <|think|>, no reasoning re-emission, header after tool responses, list types)")

ALIASES = {"image_url": "image", "input_audio": "audio", "video_url": "video"}


def g4_normalize(messages):
    """OpenAI -> template conventions (same as g4's C renderer)."""
    if not isinstance(messages, list):
        return messages
    out = copy.deepcopy(messages)
    for m in out:
        if not isinstance(m, dict):
            continue
        c = m.get("content")
        if isinstance(c, list):
            for part in c:
                if isinstance(part, dict) and isinstance(part.get("type"), str) and part["type"] in ALIASES:
                    part["type"] = ALIASES[part["type"]]
        tcs = m.get("tool_calls")
        if isinstance(tcs, list):
            for tc in tcs:
                f = tc.get("function") if isinstance(tc, dict) else None
                if isinstance(f, dict) and isinstance(f.get("arguments"), str):
                    try:
                        parsed = json.loads(f["arguments"])
                    except ValueError:
                        continue
                    if isinstance(parsed, dict):
                        f["arguments"] = parsed
    return out


def render(tok, template, case):
    msgs = g4_normalize(case["messages"])
    try:
        out = tok.apply_chat_template(
            msgs,
            tools=case.get("tools"),
            chat_template=template,
            tokenize=False,
            add_generation_prompt=case.get("add_generation_prompt", True),
            enable_thinking=case.get("enable_thinking", False),
        )
        return {"expect": "ok", "output": out}
    except Exception as e:  # the template (or HF) rejected the conversation
        return {"expect": "error", "error": "%s: %s" % (type(e).__name__, e)}


# ---------------------------------------------------------------- cases

U = lambda t: {"role": "user", "content": t}
A = lambda t: {"role": "assistant", "content": t}
S = lambda t: {"role": "system", "content": t}

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name, e.g. Paris"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "description": "Unit"},
            },
            "required": ["city"],
        },
    },
}
SEARCH = {
    "type": "function",
    "function": {
        "name": "search",
        "description": "Search the web.",
        "parameters": {
            "type": "object",
            "properties": {
                "query": {"type": "string"},
                "max_results": {"type": "integer", "description": "How many"},
                "safe": {"type": "boolean", "nullable": True},
            },
            "required": ["query"],
        },
    },
}
NESTED = {
    "type": "function",
    "function": {
        "name": "create_event",
        "description": "Create a calendar event.",
        "parameters": {
            "type": "object",
            "properties": {
                "title": {"type": "string", "description": "Title"},
                "attendees": {
                    "type": "array",
                    "description": "People",
                    "items": {
                        "type": "object",
                        "properties": {
                            "email": {"type": "string"},
                            "role": {"type": "string", "enum": ["required", "optional"]},
                        },
                        "required": ["email"],
                    },
                },
                "location": {
                    "type": "object",
                    "description": "Where",
                    "properties": {
                        "lat": {"type": "number"},
                        "lon": {"type": "number"},
                        "address": {"type": "object", "properties": {"street": {"type": "string"}}},
                    },
                    "required": ["lat", "lon"],
                },
                "tags": {"type": "array", "items": {"type": "string", "enum": ["work", "home"]}},
                "matrix": {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}},
                "priority": {"type": ["string", "null"], "description": "Optional priority"},
                "meta": {"type": "object", "additionalProperties": {"type": "string"}},
                "count": {"type": "integer", "minimum": 0, "maximum": 10, "default": 1},
            },
            "required": ["title", "attendees"],
        },
        "response": {"type": "object", "description": "The created event"},
    },
}
NOPARAM = {"type": "function", "function": {"name": "now", "description": "Current time."}}
EMPTYPARAM = {"type": "function", "function": {"name": "ping", "description": "Ping.",
                                               "parameters": {"type": "object", "properties": {}}}}


def tc(name, args, id_="call_1"):
    return {"id": id_, "type": "function", "function": {"name": name, "arguments": args}}


def common_cases():
    c = []
    add = lambda name, messages, **kw: c.append(dict(name=name, messages=messages, **kw))
    add("single_user", [U("Hello!")])
    add("single_user_no_gen", [U("Hello!")], add_generation_prompt=False)
    add("multi_turn", [U("Hi"), A("Hello! How can I help?"), U("Tell me a joke.")])
    add("multi_turn_no_gen", [U("Hi"), A("Hello!"), U("Joke?"), A("Why did the chicken...")],
        add_generation_prompt=False)
    add("system_first", [S("You are terse."), U("Hi")])
    add("system_whitespace", [S("  \n You are terse. \t\n"), U("  Hi  \n")])
    add("system_only", [S("Only a system prompt.")])
    add("system_only_no_gen", [S("Only a system prompt.")], add_generation_prompt=False)
    add("developer_first", [{"role": "developer", "content": "Be nice."}, U("Hi")])
    add("empty_user", [U("")])
    add("empty_assistant", [U("a"), A(""), U("b")])
    add("null_content", [U("a"), {"role": "assistant", "content": None}, U("b")])
    add("missing_content", [U("a"), {"role": "assistant"}, U("b")])
    add("unicode", [U("Grüße aus Köln! 日本語のテキスト 🙂 \u00e9\u0301 Ω≈ç√"), A("¡Hola! Привет 👋")])
    add("unicode_whitespace_trim", [U("\u3000\u00a0 wide spaces \u2003\n"), A("\u2028x\u2029")])
    add("special_chars", [U("Use <b>tags</b> & \"quotes\" and 'single' and \\backslash\\ {braces}")])
    add("newlines_inside", [U("line1\n\nline2\r\nline3"), A("a\n\nb")])
    add("parts_text", [{"role": "user", "content": [{"type": "text", "text": "Part one."},
                                                     {"type": "text", "text": " Part two. "}]}])
    add("parts_image", [{"role": "user", "content": [{"type": "image", "url": "http://x/y.png"},
                                                      {"type": "text", "text": "What is this?"}]}])
    add("parts_image_url", [{"role": "user", "content": [
        {"type": "text", "text": "Describe"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]}])
    add("parts_audio", [{"role": "user", "content": [{"type": "audio", "path": "a.wav"},
                                                      {"type": "text", "text": "Transcribe."}]}])
    add("parts_input_audio", [{"role": "user", "content": [
        {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}},
        {"type": "text", "text": "Transcribe."}]}])
    add("parts_video", [{"role": "user", "content": [{"type": "video", "path": "v.mp4"},
                                                      {"type": "text", "text": "Summarise."}]}])
    add("parts_mixed_many", [{"role": "user", "content": [
        {"type": "text", "text": "Compare"}, {"type": "image"}, {"type": "image_url", "image_url": {"url": "u"}},
        {"type": "text", "text": "and"}, {"type": "audio"}, {"type": "video"}, {"type": "unknown_kind"}]}])
    add("parts_empty_list", [{"role": "user", "content": []}])
    add("assistant_parts", [U("q"), {"role": "assistant", "content": [{"type": "text", "text": " answer "}]},
                            U("more")])
    add("system_parts", [{"role": "system", "content": [{"type": "text", "text": "Sys as parts."}]}, U("Hi")])
    add("long_alternation", [U("1"), A("2"), U("3"), A("4"), U("5"), A("6"), U("7")])
    add("thinking_on", [U("Solve 2+2.")], enable_thinking=True)
    add("thinking_on_system", [S("Sys."), U("Solve.")], enable_thinking=True)
    add("thinking_on_no_gen", [U("a"), A("b")], enable_thinking=True, add_generation_prompt=False)
    add("assistant_with_thinking_text", [U("q"), A("<|channel>thought\nhidden reasoning<channel|>The answer."),
                                         U("next")])
    add("reasoning_content_history", [U("q"), {"role": "assistant", "content": "4", "reasoning_content": "2+2=4"},
                                      U("again")], enable_thinking=True)
    add("tools_simple", [U("Weather in Paris?")], tools=[WEATHER])
    add("tools_two", [S("Use tools."), U("Find news")], tools=[WEATHER, SEARCH])
    add("tools_nested", [U("Plan a meeting")], tools=[NESTED])
    add("tools_noparam", [U("Time?")], tools=[NOPARAM, EMPTYPARAM])
    add("tools_and_thinking", [U("Weather?")], tools=[WEATHER], enable_thinking=True)
    add("tool_call_object_args", [U("Weather in Paris?"),
                                  {"role": "assistant", "content": None,
                                   "tool_calls": [tc("get_weather", {"city": "Paris", "unit": "celsius"})]},
                                  {"role": "tool", "tool_call_id": "call_1", "content": "{\"temp\": 21}"}],
        tools=[WEATHER])
    add("tool_call_string_args", [U("Weather in Paris?"),
                                  {"role": "assistant", "content": "",
                                   "tool_calls": [tc("get_weather", "{\"city\": \"Paris\", \"unit\": \"celsius\"}")]},
                                  {"role": "tool", "tool_call_id": "call_1", "content": "sunny, 21C"}],
        tools=[WEATHER])
    add("tool_call_bad_json_args", [U("x"), {"role": "assistant",
                                             "tool_calls": [tc("search", "not json {")]}], tools=[SEARCH])
    add("tool_call_array_json_args", [U("x"), {"role": "assistant",
                                               "tool_calls": [tc("search", "[1, 2]")]}], tools=[SEARCH])
    add("parallel_tool_calls", [U("Weather in Paris and Rome?"),
                                {"role": "assistant", "tool_calls": [
                                    tc("get_weather", {"city": "Paris"}, "a"), tc("get_weather", {"city": "Rome"}, "b")]},
                                {"role": "tool", "tool_call_id": "a", "content": "sunny"},
                                {"role": "tool", "tool_call_id": "b", "content": "rain"},
                                A("Paris is sunny and Rome is rainy.")], tools=[WEATHER])
    add("consecutive_tool_calls", [U("Search then weather"),
                                   {"role": "assistant", "tool_calls": [tc("search", {"query": "capital of France"})]},
                                   {"role": "tool", "content": "Paris"},
                                   {"role": "assistant", "tool_calls": [tc("get_weather", {"city": "Paris"})]},
                                   {"role": "tool", "content": "sunny"}], tools=[WEATHER, SEARCH])
    add("tool_call_arg_types", [U("x"), {"role": "assistant", "tool_calls": [tc("f", {
        "s": "str", "i": 42, "neg": -7, "f": 3.5, "tiny": 1e-7, "big": 1e22, "whole": 2.0, "t": True, "fl": False,
        "n": None, "list": [1, "two", 3.0, None, [True]], "obj": {"Zed": 1, "alpha": {"deep": "x"}, "Beta": []},
        "empty_s": "", "uni": "日本 🙂", "Upper": 1, "lower": 2}, "c")]}], add_generation_prompt=False)
    add("tool_call_reasoning_after_user", [U("q"), {"role": "assistant", "reasoning_content": "I should search.",
                                                     "tool_calls": [tc("search", {"query": "q"})]},
                                          {"role": "tool", "content": "r"}], tools=[SEARCH], enable_thinking=True)
    add("tool_call_reasoning_field_alias", [U("q"), {"role": "assistant", "reasoning": "Think via 'reasoning'.",
                                                      "tool_calls": [tc("search", {"query": "q"})]}],
        tools=[SEARCH], enable_thinking=True)
    add("tool_call_reasoning_before_user", [U("q"), {"role": "assistant", "reasoning_content": "old thought",
                                                      "tool_calls": [tc("search", {"query": "q"})]},
                                           {"role": "tool", "content": "r"}, A("done"), U("next")],
        tools=[SEARCH], enable_thinking=True)
    add("tool_responses_native", [U("Weather?"),
                                  {"role": "assistant", "tool_calls": [tc("get_weather", {"city": "Oslo"})]},
                                  {"role": "user", "tool_responses": [
                                      {"name": "get_weather", "response": {"temp": -3.5, "sky": "snow", "ok": True}}]}],
        tools=[WEATHER])
    add("tool_responses_then_calls", [U("Weather?"),
                                      {"role": "assistant", "tool_calls": [tc("get_weather", {"city": "Oslo"})],
                                       "tool_responses": [{"name": "get_weather", "response": "cold"}]},
                                      {"role": "assistant", "tool_calls": [tc("get_weather", {"city": "Bergen"})],
                                       "tool_responses": [{"response": [1, 2]}]}], tools=[WEATHER])
    add("tool_responses_with_content", [U("x"), {"role": "user", "content": "here",
                                                  "tool_responses": [{"name": "f", "response": 12}]}])
    add("tool_only_history_no_gen", [U("x"), {"role": "assistant", "tool_calls": [tc("now", {})]}],
        tools=[NOPARAM], add_generation_prompt=False)
    add("tools_empty_list", [U("x")], tools=[])
    return c


def gemma3_only_cases():
    c = []
    add = lambda name, messages, **kw: c.append(dict(name=name, messages=messages, **kw))
    add("g3_assistant_first", [A("I start"), U("x")])
    add("g3_two_users", [U("a"), U("b")])
    add("g3_system_then_assistant", [S("s"), A("a")])
    add("g3_system_parts_image_first", [{"role": "system", "content": [{"type": "image"}]}, U("x")])
    add("g3_system_empty_parts", [{"role": "system", "content": []}, U("x")])
    add("g3_system_null_content", [{"role": "system", "content": None}, U("x")])
    add("g3_user_then_system", [U("a"), S("mid system")])
    add("g3_images", [{"role": "user", "content": [{"type": "image"}, {"type": "image_url", "image_url": {"url": "u"}},
                                                   {"type": "text", "text": " two images "}]}, A("ok")])
    add("g3_system_no_trim", [S("  keep spaces  "), U("  x  ")])
    return c


def gemma4_only_cases():
    c = []
    add = lambda name, messages, **kw: c.append(dict(name=name, messages=messages, **kw))
    add("g4_empty_messages", [])
    add("g4_tool_name_not_string", [U("x"), {"role": "assistant", "tool_calls": [
        {"type": "function", "function": {"name": 5, "arguments": {}}}]}])
    add("g4_properties_not_mapping", [U("x")], tools=[{"type": "function", "function": {
        "name": "f", "description": "d", "parameters": {"type": "object", "properties": [1]}}}])
    add("g4_tool_response_name_null", [U("x"), {"role": "user", "tool_responses": [{"name": None, "response": 1}]}])
    add("g4_required_not_iterable", [U("x")], tools=[{"type": "function", "function": {
        "name": "f", "description": "d", "parameters": {"type": "object", "properties": {
            "o": {"type": "object", "properties": {"a": {"type": "string"}}, "required": 5}}}}}])
    add("g4_items_required_not_iterable", [U("x")], tools=[{"type": "function", "function": {
        "name": "f", "parameters": {"type": "object", "properties": {
            "l": {"type": "array", "items": {"type": "string", "required": True}}}}}}])
    add("g4_items_type_not_iterable", [U("x")], tools=[{"type": "function", "function": {
        "name": "f", "parameters": {"type": "object", "properties": {
            "l": {"type": "array", "items": {"type": 3}}}}}}])
    add("g4_top_required_not_iterable", [U("x")], tools=[{"type": "function", "function": {
        "name": "f", "parameters": {"type": "object", "required": 1.5, "properties": {"a": {"type": "string"}}}}}])
    add("g4_nested_properties_list", [U("x")], tools=[{"type": "function", "function": {
        "name": "f", "parameters": {"type": "object", "properties": {
            "l": {"type": "array", "items": {"type": "object", "properties": [1]}},
            "o": {"type": "object", "properties": ["not", "mapping"]}}}}}])
    add("g4_tool_response_missing_response", [U("x"), {"role": "user", "tool_responses": [{"name": "f"}]}])
    add("g4_schema_weird", [U("x")], tools=[{"type": "function", "function": {
        "name": "weird", "description": "Schema corner cases",
        "parameters": {"type": "object", "required": ["a"], "properties": {
            "description": {"type": "string"}, "type": {"type": "string"},
            "a": {"type": "object"},
            "b": {"type": "array", "items": {"type": ["string", "integer"], "description": "multi", "minItems": None}},
            "c": {"type": "array", "items": {}},
            "d": {"type": "array", "items": {"properties": {"x": {"type": "string"}}, "required": ["x"]}},
            "e": {"type": "string", "enum": []},
            "f": {"nullable": True},
            "g": {"type": "STRING", "enum": ["A", 1, True, None, 2.5]},
            "h": "not a dict",
            "i": {"type": "object", "properties": {"j": {"type": "object", "properties": {"k": {"type": "boolean"}},
                                                         "required": ["k"]}}, "required": "j"},
            "Z_upper": {"type": "number", "description": 12},
        }}}}])
    add("g4_param_no_type", [U("x")], tools=[{"type": "function", "function": {
        "name": "f", "description": "no type", "parameters": {"properties": {"a": {"type": "string"}}}}}])
    add("g4_response_decl", [U("x")], tools=[{"type": "function", "function": {
        "name": "f", "description": "resp", "parameters": {"type": "object", "properties": {"a": {"type": "string"}}},
        "response": {"type": "string", "description": "plain"}}}])
    add("g4_tool_no_description", [U("x")], tools=[{"type": "function", "function": {"name": "f"}}])
    add("g4_reasoning_empty", [U("q"), {"role": "assistant", "reasoning_content": "",
                                         "tool_calls": [tc("f", {"a": 1})]}])
    add("g4_thinking_strip_multi", [U("q"), A("pre <|channel>t1<channel|> mid <|channel>t2<channel|> post"),
                                    A("<channel|>stray close"), A("open only <|channel>never closed")],
        add_generation_prompt=False)
    add("g4_tool_role_gen_prompt", [U("x"), {"role": "assistant", "tool_calls": [tc("f", {})]},
                                    {"role": "tool", "content": [{"type": "text", "text": "result as parts"}]}])
    add("g4_developer_parts", [{"role": "developer", "content": [{"type": "text", "text": "dev parts"}]}, U("x")],
        tools=[NOPARAM])
    add("g4_system_not_first", [U("x"), S("late system"), U("y")])
    return c


# ------------------------------------------------ random conversations
# Seeded, so the committed fixtures are reproducible. They exercise the
# generic jinja semantics (dictsort, str() of numbers, trim, nesting).

WORDS = ["alpha", "Beta", "gamma", "δέλτα", "ключ", "名前", "x", "Zed", "a_b", "id", "TYPE", "value", "🙂"]
TEXTS = ["", " ", "hello", "  padded  ", "multi\nline\n", "tab\tsep", "Ünïcödé", "\u3000wide\u3000",
         "<|channel>thought\nhmm<channel|>answer", "quote ' and \"", "emoji 🙂🙃", "trailing\n\n", "\u00a0nbsp"]


def rnd_scalar(r):
    k = r.randrange(9)
    if k == 0:
        return r.randrange(-1000, 1000)
    if k == 1:
        return r.choice([0.5, -2.25, 1e-5, 123456.789, 1e16, 3.0, 0.1, -0.0, 2.5e-300, 1.7976931348623157e308])
    if k == 2:
        return r.random() * 10 ** r.randrange(-8, 20)
    if k == 3:
        return r.choice([True, False])
    if k == 4:
        return None
    return r.choice(TEXTS + WORDS)


def rnd_value(r, depth=0):
    k = r.randrange(10)
    if depth < 3 and k == 0:
        return [rnd_value(r, depth + 1) for _ in range(r.randrange(4))]
    if depth < 3 and k == 1:
        return {r.choice(WORDS): rnd_value(r, depth + 1) for _ in range(r.randrange(4))}
    return rnd_scalar(r)


def rnd_schema(r, depth=0):
    t = r.choice(["string", "integer", "number", "boolean", "object", "array", "STRING", ["string", "null"]])
    s = {"type": t}
    if r.random() < 0.6:
        s["description"] = r.choice(TEXTS + WORDS)
    if r.random() < 0.2:
        s["nullable"] = r.choice([True, False])
    if t in ("string", "STRING") and r.random() < 0.5:
        s["enum"] = [r.choice(WORDS) for _ in range(r.randrange(4))]
    if t == "object" and depth < 3:
        if r.random() < 0.8:
            s["properties"] = {r.choice(WORDS): rnd_schema(r, depth + 1) for _ in range(r.randrange(4))}
        if r.random() < 0.5:
            s["required"] = [r.choice(WORDS) for _ in range(r.randrange(3))]
    if t == "array" and depth < 3 and r.random() < 0.8:
        s["items"] = rnd_schema(r, depth + 1)
        if r.random() < 0.3:
            s["items"]["required"] = ["x"]
    if r.random() < 0.1:
        s["default"] = rnd_value(r, 2)
    return s


def rnd_tool(r, i):
    f = {"name": "fn_%d_%s" % (i, r.choice(["get", "set", "run"]))}
    if r.random() < 0.9:
        f["description"] = r.choice(TEXTS + WORDS)
    if r.random() < 0.85:
        f["parameters"] = {"type": "object",
                           "properties": {r.choice(WORDS): rnd_schema(r) for _ in range(r.randrange(5))}}
        if r.random() < 0.6:
            f["parameters"]["required"] = [r.choice(WORDS) for _ in range(r.randrange(3))]
    if r.random() < 0.1:
        f["response"] = {"type": r.choice(["object", "string"]), "description": r.choice(WORDS)}
    return {"type": "function", "function": f}


def rnd_content(r):
    k = r.randrange(6)
    if k == 0:
        return None
    if k == 1:
        parts = []
        for _ in range(r.randrange(4)):
            t = r.choice(["text", "text", "image", "image_url", "audio", "input_audio", "video"])
            parts.append({"type": t, "text": r.choice(TEXTS)} if t == "text" else {"type": t})
        return parts
    return r.choice(TEXTS + WORDS)


def rnd_conversation(r, fmt):
    msgs = []
    n = r.randrange(1, 8)
    if r.random() < 0.3:
        msgs.append({"role": r.choice(["system", "developer"]) if fmt == "gemma4" else "system",
                     "content": r.choice(TEXTS)})
    for i in range(n):
        if fmt == "gemma3":
            role = "user" if i % 2 == 0 else "assistant"
            if r.random() < 0.05:
                role = r.choice(["user", "assistant", "system"])
            m = {"role": role, "content": rnd_content(r)}
            if m["content"] is None and r.random() < 0.5:
                m["content"] = "fallback"
        else:
            role = r.choice(["user", "assistant", "assistant", "tool"])
            m = {"role": role}
            if r.random() < 0.85:
                m["content"] = rnd_content(r)
            if role == "assistant" and r.random() < 0.5:
                m["tool_calls"] = []
                for j in range(r.randrange(1, 4)):
                    args = {r.choice(WORDS): rnd_value(r) for _ in range(r.randrange(4))}
                    if r.random() < 0.3:
                        args = json.dumps(args, ensure_ascii=r.random() < 0.5)
                    m["tool_calls"].append(tc("fn_%d" % j, args, "c%d" % j))
                if r.random() < 0.5:
                    m[r.choice(["reasoning_content", "reasoning", "thinking"])] = r.choice(TEXTS)
            if role in ("user", "assistant") and r.random() < 0.15:
                m["tool_responses"] = [{"name": "fn_0", "response": rnd_value(r)} if r.random() < 0.8
                                       else {"response": rnd_value(r)} for _ in range(r.randrange(1, 3))]
        msgs.append(m)
    case = {"messages": msgs, "add_generation_prompt": r.random() < 0.8, "enable_thinking": r.random() < 0.3}
    if fmt == "gemma4" and r.random() < 0.5:
        case["tools"] = [rnd_tool(r, i) for i in range(r.randrange(1, 4))]
    return case


# Adversarial conversations: odd JSON-schema shapes (types that are lists,
# numbers or objects; required as a string or dict; property names equal to
# schema keywords), mixed-case and non-ASCII keys (dictsort order), Unicode
# whitespace (trim), strings needing Python repr escapes, reasoning aliases,
# tool responses without a response. Roles are mostly random, so many Gemma 3
# cases are template errors.

ADV_KEYS = ["a", "A", "b", "B", "Éa", "éb", "ÄÖ", "äx", "Ωmega", "ωa", "Жук", "жа", "description", "type",
            "properties", "required", "nullable", "items", "enum", "default", "x y", "名", "_u", "Z", "z1", "Z0"]
ADV_STRS = ["", " ", "s", "S p", "\x1c x \x1f", "\x85a\x85", "\u2028b\u2029", "\t\n\r\x0b\x0c", "it's",
            'say "hi"', "both ' \"", "back\\slash", "\x07bell", "é", "\u00a0", "\u200b", "🙂", "\ue000pua",
            "<|channel>t<channel|>x", "<channel|>", "ABC", "object", "OBJECT", "array", "string", "Array"]


def adv_value(r, d=0):
    k = r.randrange(12)
    if d < 4 and k == 0:
        return [adv_value(r, d + 1) for _ in range(r.randrange(4))]
    if d < 4 and k == 1:
        return {r.choice(ADV_KEYS): adv_value(r, d + 1) for _ in range(r.randrange(4))}
    if k == 2:
        return r.randrange(-5, 5)
    if k == 3:
        return r.choice([0.0, -0.0, 1e-4, 1e-5, 1e16, 1e15, 123.456, 2.0 ** 53, 1 / 3, 5e-324])
    if k == 4:
        return r.choice([True, False, None])
    return r.choice(ADV_STRS)


def adv_schema(r, d=0):
    s = {}
    for key in r.sample(["type", "description", "nullable", "enum", "properties", "required", "items", "default"],
                        r.randrange(0, 6)):
        if key == "type":
            s[key] = r.choice(["string", "object", "array", "integer", "OBJECT", "Array", ["string", "null"],
                               ["array"], 5, None, True, {"t": 1}, ""])
        elif key == "properties":
            s[key] = ({r.choice(ADV_KEYS): adv_schema(r, d + 1) for _ in range(r.randrange(4))}
                      if d < 3 and r.random() < 0.9 else adv_value(r, 3))
        elif key == "items":
            s[key] = adv_schema(r, d + 1) if d < 3 and r.random() < 0.8 else adv_value(r, 3)
        elif key == "required":
            s[key] = r.choice([[r.choice(ADV_KEYS) for _ in range(r.randrange(3))], "ab", {"k": 1}, [], [1, None]])
        else:
            s[key] = adv_value(r, 2)
    return s if r.random() < 0.95 else adv_value(r, 3)


def adv_conversation(r, fmt):
    msgs = []
    for i in range(r.randrange(1, 7)):
        if fmt == "gemma4" or r.random() < 0.2:
            role = r.choice(["user", "assistant", "system", "developer", "tool"])
        else:
            role = "user" if i % 2 == 0 else "assistant"
        m = {"role": role}
        if r.random() < 0.9:
            k = r.randrange(5)
            m["content"] = (None if k == 0 else
                            [{"type": r.choice(["text", "image", "audio", "video", "image_url", "input_audio",
                                                "video_url", "file"]), "text": r.choice(ADV_STRS)}
                             for _ in range(r.randrange(4))] if k == 1 else r.choice(ADV_STRS))
        if r.random() < 0.3:
            m["tool_calls"] = []
            for _ in range(r.randrange(0, 3)):
                a = r.choice([adv_value(r, 1), json.dumps(adv_value(r, 1)), "{bad", None,
                              {r.choice(ADV_KEYS): adv_value(r, 1) for _ in range(3)}])
                if not (a is None or isinstance(a, (str, dict))):
                    a = {"v": a}
                m["tool_calls"].append({"type": "function", "function": {"name": r.choice(["f", "g_h"]),
                                                                         "arguments": a}})
        if r.random() < 0.2:
            m["tool_responses"] = [dict(([("name", r.choice(["f", "g"]))] if r.random() < 0.7 else []) +
                                        ([("response", adv_value(r, 1))] if r.random() < 0.8 else []))
                                   for _ in range(r.randrange(0, 3))]
        if r.random() < 0.3:
            m[r.choice(["reasoning_content", "reasoning", "thinking"])] = r.choice(ADV_STRS + [None])
        msgs.append(m)
    cs = {"messages": msgs, "add_generation_prompt": r.random() < 0.7, "enable_thinking": r.random() < 0.4}
    if r.random() < 0.6:
        tools = []
        for _ in range(r.randrange(0, 3)):
            f = {"name": "fn" + r.choice(["", "_1", "X"])}
            if r.random() < 0.8:
                f["description"] = adv_value(r, 3)
            if r.random() < 0.9:
                p = adv_schema(r, 0)
                if isinstance(p, dict) and r.random() < 0.7:
                    p["properties"] = {r.choice(ADV_KEYS): adv_schema(r, 1) for _ in range(r.randrange(5))}
                f["parameters"] = p if isinstance(p, dict) else None
            if r.random() < 0.2:
                f["response"] = r.choice([adv_schema(r, 0), None, "x"])
            tools.append({"type": "function", "function": f})
        cs["tools"] = tools
    return cs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gemma4-template", required=True)
    ap.add_argument("--gemma4-source", required=True, help="repo, path and commit the template was read from")
    ap.add_argument("--gemma3-tokenizer", default="/work/shared/data/gemma3-tokenizer")
    ap.add_argument("--out", default="tests/fixtures/chat")
    ap.add_argument("--n-random", type=int, default=40)
    a = ap.parse_args()

    import transformers
    import jinja2

    tok = AutoTokenizer.from_pretrained(a.gemma3_tokenizer)
    with open(a.gemma4_template, encoding="utf-8") as f:
        g4_tpl = f.read()
    with open(os.path.join(a.gemma3_tokenizer, "tokenizer_config.json"), encoding="utf-8") as f:
        g3_tpl = json.load(f)["chat_template"]
    sha = lambda s: hashlib.sha256(s.encode("utf-8")).hexdigest()
    templates = {
        "gemma3": (g3_tpl, {"source": "google/gemma-3 tokenizer_config.json chat_template (from %s)" %
                            os.path.basename(a.gemma3_tokenizer.rstrip("/")), "sha256": sha(g3_tpl)}),
        "gemma4": (g4_tpl, {"source": a.gemma4_source, "sha256": sha(g4_tpl), "notes": GEMMA4_NOTES}),
    }
    os.makedirs(a.out, exist_ok=True)
    for fmt, (tpl, info) in templates.items():
        cases = common_cases() + (gemma3_only_cases() if fmt == "gemma3" else gemma4_only_cases())
        r = random.Random(1234 if fmt == "gemma3" else 5678)
        for i in range(a.n_random):
            cs = rnd_conversation(r, fmt)
            cs["name"] = "random_%02d" % i
            cases.append(cs)
        r = random.Random(4321 if fmt == "gemma3" else 8765)
        for i in range(a.n_random):
            cs = adv_conversation(r, fmt)
            cs["name"] = "adversarial_%02d" % i
            cases.append(cs)
        out_cases = []
        for cs in cases:
            cs = dict(cs)
            cs.setdefault("add_generation_prompt", True)
            cs.setdefault("enable_thinking", False)
            cs.update(render(tok, tpl, cs))
            out_cases.append(cs)
        doc = {
            "format": fmt,
            "template": info,
            "generator": "scripts/gen_chat_fixtures.py (transformers %s, jinja2 %s, apply_chat_template "
                         "tokenize=False, bos_token '<bos>')" % (transformers.__version__, jinja2.__version__),
            "cases": out_cases,
        }
        path = os.path.join(a.out, fmt + ".json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False, indent=1)
            f.write("\n")
        n_ok = sum(1 for x in out_cases if x["expect"] == "ok")
        print("%s: %d cases (%d ok, %d error) -> %s" % (fmt, len(out_cases), n_ok, len(out_cases) - n_ok, path))


if __name__ == "__main__":
    main()
