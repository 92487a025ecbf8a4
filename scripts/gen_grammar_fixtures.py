#!/usr/bin/env python3
"""Generates tests/fixtures/grammar/schema_cases.json: JSON schemas with
candidate documents labelled valid/invalid by the reference, the python
`jsonschema` package (Draft 2020-12) plus python's strict json parser.

The C test (tests/unit/test_grammar.c) checks that the grammar matcher
accepts exactly the valid documents. Documents whose verdict depends on
features the matcher deliberately does not model are left out, each for a
stated reason: integral floats (1.0 is an "integer" to jsonschema, the
matcher wants integers without a fraction), duplicate keys (python keeps the
last, the matcher rejects), whitespace runs longer than 20 bytes, numbers
with more than 16 integer or fraction digits or 3 exponent digits (the
matcher caps them so that no generation loops inside a number; llama.cpp's
json-schema-to-grammar caps integer and fraction digits at 16 the same way),
exponent notation under a schema with numeric bounds (the matcher writes
bounded numbers without an exponent, so that it can refuse a digit as soon as
the bounds become unreachable).

Usage: pip install jsonschema; python3 scripts/gen_grammar_fixtures.py
"""
import json
import os
import random

import jsonschema

SCHEMAS = [
    {"type": "object",
     "properties": {"name": {"type": "string"},
                    "age": {"type": "integer", "minimum": 0, "maximum": 150}},
     "required": ["name"], "additionalProperties": False},
    {"type": "array", "items": {"type": "number"}, "minItems": 1, "maxItems": 3},
    {"type": "string", "minLength": 2, "maxLength": 5},
    {"enum": ["red", "green", 3, None, {"a": 1}]},
    {"const": "fixed"},
    {"anyOf": [{"type": "string"}, {"type": "integer"}]},
    {"oneOf": [
        {"type": "object", "properties": {"kind": {"const": "a"}, "x": {"type": "number"}},
         "required": ["kind", "x"], "additionalProperties": False},
        {"type": "object", "properties": {"kind": {"const": "b"}, "y": {"type": "string"}},
         "required": ["kind", "y"], "additionalProperties": False}]},
    {"$defs": {"node": {"type": "object",
                        "properties": {"value": {"type": "integer"},
                                       "children": {"type": "array", "items": {"$ref": "#/$defs/node"}}},
                        "required": ["value"], "additionalProperties": False}},
     "$ref": "#/$defs/node"},
    {"type": "object",
     "properties": {"tags": {"type": "array", "items": {"type": "string"}},
                    "meta": {"type": "object", "additionalProperties": {"type": "boolean"}}}},
    {"type": ["number", "null"], "exclusiveMinimum": 0, "maximum": 10},
    {"type": "boolean"},
    {},
    {"type": "object"},
    {"type": "integer", "minimum": -5, "maximum": 5},
    {"type": "object", "properties": {"q": {"type": "string", "description": "query"},
                                      "n": {"type": "integer"}},
     "required": ["q", "n"], "title": "Search"},
    {"type": "object", "properties": {"path": {"type": "string", "format": "uri"},
                                      "mode": {"enum": ["r", "w"]},
                                      "opts": {"type": "object",
                                               "properties": {"deep": {"type": "boolean"}},
                                               "additionalProperties": False}},
     "required": ["path", "mode"], "additionalProperties": False},
    {"type": "number", "minimum": 5, "maximum": 10},
    {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
    {"type": "array", "items": {"type": "integer", "minimum": 10, "maximum": 15}, "maxItems": 2},
]

VALUES = [
    None, True, False, 0, 1, -1, 2, 3, 5, 6, -5, -6, 150, 151, 0.5, -0.5, 10, 10.5, 3.14, 1e-3, 2.5e10,
    7.5, 0.999, 9.99, 10.01, 4.999, 12, 16, [10, 15], [9], [12, 13, 14],
    "", "a", "ab", "abcde", "abcdef", "h\u00e9llo", "\u65e5\u672c", "\U0001F600x", "tab\tnl\n", 'q"uote\\',
    "red", "green", "fixed", "r", "w", "x/y",
    [], [1], [1, 2, 3], [1, 2, 3, 4], [0.5, -2], ["x", "y"], [None], [[1], {"a": 1}],
    {}, {"a": 1}, {"a": 2}, {"name": "Bob"}, {"name": "Bob", "age": 30}, {"name": "Bob", "age": -1},
    {"name": "Bob", "age": 151}, {"age": 3}, {"name": "Bob", "extra": 1}, {"name": 5},
    {"kind": "a", "x": 1.5}, {"kind": "b", "y": "s"}, {"kind": "a", "y": "s"}, {"kind": "c"},
    {"value": 1}, {"value": 1, "children": [{"value": 2}, {"value": 3, "children": []}]},
    {"value": 1, "children": [{"v": 2}]}, {"value": "1"},
    {"tags": ["a"], "meta": {"x": True}}, {"tags": [1]}, {"meta": {"x": 1}}, {"tags": [], "other": [1, 2]},
    {"q": "s", "n": 2, "z": None}, {"q": "s"}, {"q": "s", "n": 2.5},
    {"path": "/tmp/x", "mode": "r"}, {"path": "/tmp/x", "mode": "a"},
    {"path": "p", "mode": "w", "opts": {"deep": False}}, {"path": "p", "mode": "w", "opts": {"deep": 1}},
    {"path": "p", "mode": "w", "opts": {"other": True}},
    # at the digit caps (16 integer / 16 fraction digits); one past them is excluded
    1234567890123456, -1234567890123456, 0.1234567890123456, 12345678.5, 1e-07, 2.5e+100, [9999999999999999],
    12345678901234567, 0.12345678901234567,
]

RAW_INVALID = ["{", "[1,]", '{"a":1,}', "tru", "01", "1.", "-", '"unterminated', "{'a':1}", "NaN",
               "[1 2]", '{"a" 1}', '"ctl\x01"', '"bad \\x escape"', "nul", "", "  ", '{"a":1}}',
               "[1]x", '"\\ud83d"x', "1e", "-01", ".5", "+1", "[", "]", "{}{}"]


def integral_float(v):
    if isinstance(v, float):
        return v.is_integer()
    if isinstance(v, list):
        return any(integral_float(x) for x in v)
    if isinstance(v, dict):
        return any(integral_float(x) for x in v.values())
    return False


def over_digit_cap(v):
    if isinstance(v, bool):
        return False
    if isinstance(v, (int, float)):
        m = json.dumps(v).lstrip("-").lower()
        mant, _, exp = m.partition("e")
        ip, _, fp = mant.partition(".")
        return len(ip) > 16 or len(fp) > 16 or len(exp.lstrip("+-")) > 3
    if isinstance(v, list):
        return any(over_digit_cap(x) for x in v)
    if isinstance(v, dict):
        return any(over_digit_cap(x) for x in v.values())
    return False


def has_exponent(v):
    if isinstance(v, float):
        return "e" in json.dumps(v)
    if isinstance(v, list):
        return any(has_exponent(x) for x in v)
    if isinstance(v, dict):
        return any(has_exponent(x) for x in v.values())
    return False


def has_bounds(schema):
    s = json.dumps(schema)
    return any(k in s for k in ('"minimum"', '"maximum"', '"exclusiveMinimum"', '"exclusiveMaximum"'))


def strict_loads(text):
    def bad(_):
        raise ValueError("constant")
    return json.loads(text, parse_constant=bad)


def main():
    rng = random.Random(1234)
    cases = []
    for schema in SCHEMAS:
        validator = jsonschema.Draft202012Validator(schema)
        texts = []
        for v in VALUES:
            if integral_float(v) or over_digit_cap(v) or (has_bounds(schema) and has_exponent(v)):
                continue
            texts.append(json.dumps(v, ensure_ascii=False, separators=(",", ":")))
            if rng.random() < 0.3:
                texts.append(json.dumps(v, ensure_ascii=False))
            if rng.random() < 0.2 and isinstance(v, (dict, list)):
                texts.append(json.dumps(v, ensure_ascii=False, indent=1))
            if rng.random() < 0.1:
                texts.append(" " + json.dumps(v, ensure_ascii=False, separators=(",", ":")) + "\n")
            if rng.random() < 0.2 and isinstance(v, str):
                texts.append(json.dumps(v, ensure_ascii=True))
        texts += RAW_INVALID
        docs = []
        for t in texts:
            try:
                val = strict_loads(t)
                ok = validator.is_valid(val)
            except ValueError:
                ok = False
            docs.append({"text": t, "valid": ok})
        cases.append({"schema": schema, "docs": docs})
    out = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "grammar", "schema_cases.json")
    with open(out, "w", encoding="utf-8") as f:
        json.dump(cases, f, ensure_ascii=False, indent=0)
        f.write("\n")
    n = sum(len(c["docs"]) for c in cases)
    v = sum(d["valid"] for c in cases for d in c["docs"])
    print(f"{len(cases)} schemas, {n} documents, {v} valid -> {out}")


if __name__ == "__main__":
    main()
