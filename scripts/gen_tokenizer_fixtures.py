#!/usr/bin/env python3
"""gen_tokenizer_fixtures.py — reference fixtures for the g4 tokenizer.

Builds a deterministic corpus (>= 5,000 strings: prose, code in several
languages, whitespace runs with tabs/CRLF, CJK, Arabic, Devanagari, Thai,
emoji with ZWJ and skin tones, combining marks, astral-plane and control
characters, special-token strings, very long words, random UTF-8 mixes) and
encodes it with HF `tokenizers` (the reference):

  tests/fixtures/tokenizer/corpus.jsonl          one JSON string per line
  tests/fixtures/tokenizer/gemma3_ids.txt        ids from the real Gemma 3 tokenizer.json
  tests/fixtures/tokenizer/gemma4test_ids.txt    ids from the Gemma 4 test tokenizer
                                                 ("i|A|B|C": corpus line i; a quarter of
                                                 the corpus plus every string with '<')
  tests/fixtures/tokenizer/*_decode.jsonl        [ids, skip_special, HF decode text] for
                                                 random ids (byte tokens, specials mixed in)
The script also asserts HF decode(encode(s)) == s on the corpus (except for
strings holding "▁"), so the C round-trip check is a check against HF too.
  tests/fixtures/tokenizer/gemma4test/tokenizer.json (+ tokenizer_config.json)
  tests/fixtures/tokenizer/gemma4test.gguf       the same tokenizer as GGUF ("gemma4" + merges)

An ids line is "A|B|C": A = encode(s, add_special_tokens=False).ids (all added
tokens matched: g4's G4_TOK_PARSE_SPECIAL); B = the same with
encode_special_tokens=True (special added tokens are plain text: g4's untrusted
mode, tokenizer.json path); C = B for a tokenizer whose special set is the one a
GGUF declares (token_type CONTROL/UNKNOWN) — g4's untrusted mode on the GGUF
path. "=" stands for "same as A". Ids are space-separated decimals.

The Gemma 4 test tokenizer follows spec §8.1: normalizer Replace(" " -> "▁"),
no pre-tokenizer, BPE over raw characters with byte fallback, Gemma 4 special
tokens at their spec ids (0-4, 46-52, 98, 100, 101, 105, 106). Unlike Gemma
3, its newline runs are normal pieces, not added tokens (a real Gemma 4 GGUF
has only 7 user-defined tokens, and fastokens found gemma-4-31B-it's BPE
merging "\n" + "\n"), so BPE runs over newlines. To stay small
(committed fixtures < 3 MB) its vocabulary is the 6,000 first Gemma 3 pieces
plus the single characters below U+3000 (and those of the multilingual
samples) plus tabs, with the normal pieces' ids shuffled, and the seven multimodal
tokens (spec ids 255999.. 258884) placed at the top of this dense range.

Usage: python3 scripts/gen_tokenizer_fixtures.py [--g3-dir DIR] [--gguf PATH]
(defaults: /work/shared/data/gemma3-tokenizer and ~/.cache/g4/gemma-3-270m-q4_k_m.gguf)
"""
import argparse
import json
import os
import random
import sys

import numpy as np
from tokenizers import Tokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "fixtures", "tokenizer")

# --------------------------------------------------------------------------
# Corpus

PROSE = """The quick brown fox jumps over the lazy dog. It was the best of times, it was the worst of times.
Call me Ishmael. Some years ago, never mind how long precisely, having little or no money in my purse,
and nothing particular to interest me on shore, I thought I would sail about a little and see the watery part of the world.
In the beginning the Universe was created. This has made a lot of people very angry and been widely regarded as a bad move.
A language model assigns probabilities to sequences of tokens; tokenization decides what those tokens are.
Mr. O'Neil's 3rd-floor flat cost $1,250.75/month (utilities incl.) — or so he said... "Really?" she asked.
Don't, won't, can't, shouldn't've; y'all'd've; it's 5 o'clock somewhere! 100% sure? #hashtag @mention e-mail@example.com
Visit https://example.org/path?query=1&lang=en#frag or ftp://files.example.net/pub/README.txt for details.
Numbers: 0 1 12 123 1234 12345 123456 3.14159 2.71828 6.022e23 -42 +7 1/2 ¾ ½ 10⁻³ x² H₂O 1st 2nd 3rd 4th.
Café, naïve, façade, coöperate, résumé, jalapeño, Ångström, Øresund, Straße, İstanbul, ǅemal, ﬁne, Ǆ.
"""

CODE = [
    'def fib(n):\n    """Return the n-th Fibonacci number."""\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n',
    '#include <stdio.h>\n\nint main(int argc, char **argv) {\n\tfor (int i = 0; i < argc; i++)\n\t\tprintf("%d: %s\\n", i, argv[i]);\n\treturn 0;\n}\n',
    'fn main() {\n    let v: Vec<u32> = (0..10).map(|x| x * x).collect();\n    println!("{:?}", v);\n}\n',
    'function debounce(fn, ms) {\n  let t;\n  return (...args) => { clearTimeout(t); t = setTimeout(() => fn(...args), ms); };\n}\n',
    'package main\n\nimport "fmt"\n\nfunc main() {\n\tch := make(chan int)\n\tgo func() { ch <- 42 }()\n\tfmt.Println(<-ch)\n}\n',
    'SELECT u.id, COUNT(o.id) AS n FROM users u LEFT JOIN orders o ON o.user_id = u.id WHERE u.active = 1 GROUP BY u.id HAVING n > 3;\n',
    '#!/bin/sh\nset -eu\nfor f in *.txt; do\n  [ -s "$f" ] && wc -l "$f" | awk \'{print $1}\'\ndone 2>/dev/null\n',
    '<!DOCTYPE html>\n<html>\n<body>\n<table><tr><th>a</th><td>b</td></tr></table>\n<div class="x"><span>hi</span></div>\n</body>\n</html>\n',
    'public class Hello {\n    public static void main(String[] args) {\n        System.out.println("Hello, World!");\n    }\n}\n',
    '{"name": "g4", "version": [1, 2, 3], "nested": {"ok": true, "n": null, "pi": 3.14}}\n',
    'template <typename T>\nstd::vector<T> twice(const std::vector<T>& v) {\n    std::vector<T> r; r.reserve(v.size() * 2);\n    for (auto& x : v) { r.push_back(x); r.push_back(x); }\n    return r;\n}\n',
    '(defun fact (n) (if (<= n 1) 1 (* n (fact (- n 1)))))\n',
    'import numpy as np\nx = np.linspace(0, 1, 11)\nprint(x @ x.T, x[::-1], x[x > 0.5])\n',
    '    if (x != y && (z >>= 2) <= 0x7fffffff) { *p++ = ~mask ^ (a | b); }\r\n',
    'ruby: [1, 2, 3].each_with_index { |x, i| puts "#{i}: #{x}" }\n',
    '  - name: build\n    run: make -j2 && make test\n    env:\n      CC: clang\n',
]

MULTI = [
    "日本語のテキストを正しく分割できるか確認します。東京は晴れ、明日は雨でしょう。",
    "中文分词测试：我们今天去公园散步，天气非常好。机器学习模型需要大量数据。",
    "한국어 문장도 포함합니다. 오늘 날씨가 좋네요!",
    "مرحبا بالعالم! هذه جملة باللغة العربية للاختبار، مع أرقام ١٢٣ و456.",
    "हिन्दी में एक वाक्य: यह परीक्षण के लिए है। नमस्ते दुनिया!",
    "ภาษาไทยไม่มีการเว้นวรรคระหว่างคำ สวัสดีครับ ยินดีต้อนรับ",
    "Русский текст: Съешь же ещё этих мягких французских булок, да выпей чаю.",
    "Ελληνικά: Ξεσκεπάζω την ψυχοφθόρα βδελυγμία.",
    "עברית: שלום עולם, זהו משפט לבדיקה.",
    "Tiếng Việt: Tôi yêu tiếng nước tôi từ khi mới ra đời.",
    "emoji: 👨‍👩‍👧‍👦 👍🏽 👋🏿 🧑🏻‍💻 🏳️‍🌈 ❤️‍🔥 🇫🇷🇯🇵 1️⃣ ©️ ™",
    "combining: e\u0301 a\u0300\u0316 Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\u0334 n\u0303 \u0915\u094d\u0937",
    "astral: 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕿𝖊𝖘𝖙 𐍈 𓀀 𠜎𠜱𠝹 🀄 🃏 \U0010fffd",
    "zero width: a\u200bb\u200cc\u200dd\ufeffe \u2060f \u00a0g\u3000h \u2028i\u2029j",
]

SPECIALS = [
    "<bos>", "<eos>", "<pad>", "<unk>", "<mask>", "[multimodal]", "<unused0>", "<unused98>",
    "<start_of_turn>", "<end_of_turn>", "<start_of_image>", "<end_of_image>", "<image_soft_token>",
    "<|turn>", "<turn|>", "<|tool>", "<tool|>", "<|tool_call>", "<tool_call|>", "<|tool_response>",
    "<tool_response|>", '<|"|>', "<|think|>", "<|channel>", "<channel|>", "<|image>", "<|audio>",
    "<|image|>", "<|audio|>", "<image|>", "<audio|>", "<|video|>", "<table>", "</td>", "<h1>",
    "<0x41>", "<0xE2>", "▁", "▁▁", "▁▁▁▁", "\u2581the", "<start_of_turn", "start_of_turn>", "<<bos>>",
    "<bos><bos>", "<|turn|>", "< bos>", "<BOS>",
]


def rand_unicode(rng, n):
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.3:
            cp = rng.randrange(0x20, 0x7f)
        elif r < 0.5:
            cp = rng.randrange(0xa0, 0x800)
        elif r < 0.8:
            cp = rng.randrange(0x800, 0x10000)
        else:
            cp = rng.randrange(0x10000, 0x110000)
        if 0xd800 <= cp < 0xe000:
            cp = 0xfffd
        out.append(chr(cp))
    return "".join(out)


def build_corpus(seed=1234):
    rng = random.Random(seed)
    words = PROSE.split()
    lines = [ln for ln in PROSE.splitlines() if ln]
    corpus = []
    # fixed pieces
    corpus += lines + CODE + MULTI + SPECIALS
    corpus += ["", " ", "  ", "\n", "\n\n", "\t", "\r\n", " \n ", "a", "A", "é", "\u2581", "\x00", "\x7f"]
    # prose: random slices and word shuffles
    for _ in range(900):
        k = rng.randrange(1, 40)
        i = rng.randrange(0, len(words))
        s = " ".join(words[i:i + k])
        if rng.random() < 0.3:
            s = s.upper() if rng.random() < 0.5 else s.lower()
        if rng.random() < 0.2:
            s = " " + s
        corpus.append(s)
    for _ in range(300):
        corpus.append(" ".join(rng.choice(words) for _ in range(rng.randrange(1, 25))))
    # code: snippets, fragments, re-indented
    for _ in range(500):
        c = rng.choice(CODE)
        a = rng.randrange(0, len(c))
        b = min(len(c), a + rng.randrange(1, 200))
        s = c[a:b]
        r = rng.random()
        if r < 0.2:
            s = s.replace("    ", "\t")
        elif r < 0.4:
            s = s.replace("\n", "\r\n")
        elif r < 0.5:
            s = s.replace("  ", " " * rng.randrange(3, 40))
        corpus.append(s)
    # whitespace runs
    ws = [" ", "\t", "\n", "\r\n", "\r", "\u00a0", "\u3000", "\u2581", "\v", "\f"]
    for _ in range(400):
        parts = []
        for _ in range(rng.randrange(1, 8)):
            parts.append(rng.choice(ws) * rng.randrange(1, 70))
            if rng.random() < 0.7:
                parts.append(rng.choice(words))
        corpus.append("".join(parts))
    # multilingual mixes
    for _ in range(700):
        m = rng.choice(MULTI)
        a = rng.randrange(0, len(m))
        s = m[a:a + rng.randrange(1, 60)]
        if rng.random() < 0.4:
            s += " " + rng.choice(words) + rng.choice(["", "\n", " ", "  "]) + rng.choice(MULTI)[: rng.randrange(1, 20)]
        corpus.append(s)
    # emoji sequences
    emo = ["👨", "👩", "👧", "👦", "🧑", "💻", "🔥", "❤", "🏳", "🌈", "👍", "👋", "🤷", "♀", "♂"]
    skin = ["", "🏻", "🏼", "🏽", "🏾", "🏿"]
    for _ in range(300):
        parts = []
        for _ in range(rng.randrange(1, 6)):
            e = rng.choice(emo) + rng.choice(skin)
            if rng.random() < 0.3:
                e += "\ufe0f"
            parts.append(e)
        sep = rng.choice(["\u200d", "", " ", "\u200d"])
        corpus.append(sep.join(parts) + rng.choice(["", " ok", "!", "\n"]))
    # combining marks, controls, astral
    for _ in range(300):
        base = rng.choice("aeiouAZnxकअ한")
        marks = "".join(chr(rng.randrange(0x300, 0x370)) for _ in range(rng.randrange(1, 8)))
        ctrl = "".join(chr(rng.choice([rng.randrange(0, 0x20), 0x7f, rng.randrange(0x80, 0xa0)])) for _ in range(rng.randrange(0, 4)))
        corpus.append(base + marks + ctrl + rand_unicode(rng, rng.randrange(0, 6)))
    # special-token strings embedded in text
    for _ in range(500):
        parts = []
        for _ in range(rng.randrange(1, 7)):
            r = rng.random()
            if r < 0.45:
                parts.append(rng.choice(SPECIALS))
            elif r < 0.8:
                parts.append(rng.choice(words))
            else:
                parts.append(rng.choice(["\n", " ", "user\n", "model\n", "  ", "\t"]))
        corpus.append(rng.choice(["", " "]).join(parts))
    # very long words
    for _ in range(40):
        r = rng.random()
        n = rng.randrange(100, 4000)
        if r < 0.2:
            s = rng.choice("ab▁ 🙂x\n") * n
        elif r < 0.5:
            s = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(n))
        elif r < 0.7:
            s = "".join(rng.choice(words) for _ in range(n // 6))
        elif r < 0.85:
            s = rand_unicode(rng, n // 4)
        else:
            s = "".join(rng.choice(MULTI) for _ in range(n // 60 + 1)).replace(" ", "")
        corpus.append(s)
    # random valid UTF-8 mixes
    while len(corpus) < 5200:
        corpus.append(rand_unicode(rng, rng.randrange(1, 40)))
    return corpus


# --------------------------------------------------------------------------
# Gemma 4 test tokenizer (spec §8.1), derived from the Gemma 3 vocabulary

G4_SPECIAL_LOW = {0: "<pad>", 1: "<eos>", 2: "<bos>", 3: "<unk>", 4: "<mask>",
                  46: "<|tool>", 47: "<tool|>", 48: "<|tool_call>", 49: "<tool_call|>",
                  50: "<|tool_response>", 51: "<tool_response|>", 52: '<|"|>',
                  98: "<|think|>", 100: "<|channel>", 101: "<channel|>", 105: "<|turn>", 106: "<turn|>"}
G4_MULTIMODAL = ["<|image>", "<|audio>", "<|image|>", "<|audio|>", "<image|>", "<audio|>", "<|video|>"]
N_BASE = 6000


def build_gemma4_test(g3):
    rng = random.Random(4)
    vocab3 = g3["model"]["vocab"]
    piece3 = {i: p for p, i in vocab3.items()}
    added3 = {a["id"]: a for a in g3["added_tokens"]}
    tabs = [i for i in range(255968, 255999)]
    # single characters live at high Gemma 3 ids: keep those below U+3000 and
    # the ones the multilingual samples use (others exercise byte fallback)
    multi_chars = set("".join(MULTI))
    singles = sorted(i for p, i in vocab3.items()
                     if len(p) == 1 and i >= N_BASE and i not in tabs and (ord(p) < 0x3000 or p in multi_chars))
    fixed = list(range(0, 494))                     # added, specials, bytes keep their ids
    movable = list(range(494, N_BASE))
    perm = movable[:]
    rng.shuffle(perm)
    newid = {}
    for i in fixed:
        newid[i] = i
    for old, new in zip(movable, perm):
        newid[old] = new
    nxt = N_BASE
    for i in singles + tabs:
        newid[i] = nxt
        nxt += 1
    pieces = {}
    for old, new in newid.items():
        pieces[new] = piece3[old]
    for i, name in G4_SPECIAL_LOW.items():
        pieces[i] = name
    mm_ids = []
    for name in G4_MULTIMODAL:
        pieces[nxt] = name
        mm_ids.append(nxt)
        nxt += 1
    n_vocab = nxt
    assert sorted(pieces) == list(range(n_vocab))
    vocab = {pieces[i]: i for i in range(n_vocab)}
    assert len(vocab) == n_vocab
    merges = []
    for a, b in g3["model"]["merges"]:
        if a in vocab and b in vocab and (a + b) in vocab:
            merges.append(a + " " + b)
    added = []
    special_ids = set(G4_SPECIAL_LOW) | set(mm_ids)
    for old, new in sorted(newid.items(), key=lambda kv: kv[1]):
        if set(pieces[new]) == {"\n"} and new not in special_ids:
            continue   # newline runs are normal pieces, as in Gemma 4 (BPE runs over them)
        if old in added3 or new in special_ids:
            added.append({"id": new, "content": pieces[new], "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": False, "special": new in special_ids})
    for i in mm_ids:
        added.append({"id": i, "content": pieces[i], "single_word": False, "lstrip": False,
                      "rstrip": False, "normalized": False, "special": True})
    added.sort(key=lambda a: a["id"])
    tok = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": added,
        "normalizer": {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"},
        "pre_tokenizer": None,
        "post_processor": g3["post_processor"],
        "decoder": g3["decoder"],
        "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True, "ignore_merges": False,
                  "vocab": vocab, "merges": merges},
    }
    cfg = {"add_bos_token": True, "add_eos_token": False, "bos_token": "<bos>", "eos_token": "<eos>",
           "pad_token": "<pad>", "unk_token": "<unk>", "tokenizer_class": "GemmaTokenizer"}
    return tok, cfg, pieces, added


def write_gemma4_gguf(path, tok, pieces, added):
    import gguf
    n = len(pieces)
    special = {a["id"] for a in added if a["special"]}
    user = {a["id"] for a in added if not a["special"]}
    tokens, types, scores = [], [], []
    for i in range(n):
        p = pieces[i]
        if i in special:
            t = 3
        elif i in user:
            t = 4
            p = p.replace("\u2581", " ")   # what llama.cpp's converter writes for user-defined pieces
        elif len(p) == 6 and p.startswith("<0x") and p.endswith(">"):
            t = 6
        else:
            t = 1
        tokens.append(p)
        types.append(t)
        scores.append(-1000.0 if t in (3, 4) else (0.0 if t == 6 else -float(i)))
    w = gguf.GGUFWriter(path, "gemma4")
    w.add_tokenizer_model("gemma4")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_token_merges(tok["model"]["merges"])
    w.add_bos_token_id(2)
    w.add_eos_token_id(1)
    w.add_unk_token_id(3)
    w.add_pad_token_id(0)
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


# --------------------------------------------------------------------------
# Encoding with the reference

def fmt_ids(ids):
    return " ".join(str(i) for i in ids)


def encode_all(tok_path, corpus, gguf_special=None, subset=None):
    """Lines "A|B|C" (see the module comment), or "i|A|B|C" for a subset."""
    t = Tokenizer.from_file(tok_path)
    tu = Tokenizer.from_file(tok_path)
    tu.encode_special_tokens = True
    tg = None
    if gguf_special is not None:
        d = json.load(open(tok_path, encoding="utf-8"))
        for a in d["added_tokens"]:
            a["special"] = a["id"] in gguf_special
        tmp = tok_path + ".ggufspecial.tmp.json"
        json.dump(d, open(tmp, "w", encoding="utf-8"), ensure_ascii=False)
        tg = Tokenizer.from_file(tmp)
        tg.encode_special_tokens = True
        os.unlink(tmp)
    out = []
    for idx, s in enumerate(corpus):
        if subset is not None and not subset(idx, s):
            continue
        a = t.encode(s, add_special_tokens=False).ids
        b = tu.encode(s, add_special_tokens=False).ids
        c = tg.encode(s, add_special_tokens=False).ids if tg is not None else b
        fa = fmt_ids(a)
        fb = "=" if b == a else fmt_ids(b)
        fc = "=" if c == a else fmt_ids(c)
        if s == "" or "\u2581" in s:
            pass   # decode(encode(s)) != s: the decoder maps every "▁" to " "
        else:
            assert t.decode(a, skip_special_tokens=False) == s, s   # the round trip the C test relies on
        out.append(("%d|" % idx if subset is not None else "") + fa + "|" + fb + "|" + fc)
    return out, t


def decode_cases(t, n_vocab, byte_ids, special_ids, seed):
    rng = random.Random(seed)
    cases = []
    for _ in range(300):   # random ids, byte tokens mixed in (invalid UTF-8 groups)
        ids = []
        for _ in range(rng.randrange(0, 20)):
            r = rng.random()
            if r < 0.4:
                ids.append(rng.choice(byte_ids))
            elif r < 0.5:
                ids.append(rng.choice(special_ids))
            else:
                ids.append(rng.randrange(0, n_vocab))
        cases.append((ids, rng.random() < 0.5))
    out = []
    for ids, skip in cases:
        out.append(json.dumps([ids, skip, t.decode(ids, skip_special_tokens=skip)], ensure_ascii=False))
    return out


def gguf_special_ids(gguf_path):
    import gguf
    r = gguf.GGUFReader(gguf_path)
    f = r.fields["tokenizer.ggml.token_type"]
    types = [int(f.parts[i][0]) for i in f.data]
    return {i for i, t in enumerate(types) if t in (2, 3)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--g3-dir", default="/work/shared/data/gemma3-tokenizer")
    ap.add_argument("--gguf", default=os.path.expanduser("~/.cache/g4/gemma-3-270m-q4_k_m.gguf"))
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    corpus = build_corpus()
    with open(os.path.join(OUT, "corpus.jsonl"), "w", encoding="utf-8") as f:
        for s in corpus:
            f.write(json.dumps(s, ensure_ascii=False) + "\n")

    g3_path = os.path.join(args.g3_dir, "tokenizer.json")
    g3 = json.load(open(g3_path, encoding="utf-8"))
    lines, t3 = encode_all(g3_path, corpus, gguf_special_ids(args.gguf))
    with open(os.path.join(OUT, "gemma3_ids.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    byte3 = [g3["model"]["vocab"]["<0x%02X>" % b] for b in range(256)]
    spec3 = [a["id"] for a in g3["added_tokens"]][:200]
    with open(os.path.join(OUT, "gemma3_decode.jsonl"), "w", encoding="utf-8") as f:
        f.write("\n".join(decode_cases(t3, 262145, byte3, spec3, 7)) + "\n")

    tok4, cfg4, pieces4, added4 = build_gemma4_test(g3)
    d4 = os.path.join(OUT, "gemma4test")
    os.makedirs(d4, exist_ok=True)
    p4 = os.path.join(d4, "tokenizer.json")
    with open(p4, "w", encoding="utf-8") as f:
        json.dump(tok4, f, ensure_ascii=False, separators=(",", ":"))
    with open(os.path.join(d4, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(cfg4, f, indent=1)
    gg4 = os.path.join(OUT, "gemma4test.gguf")
    write_gemma4_gguf(gg4, tok4, pieces4, added4)
    # A quarter of the corpus plus every string with a '<' (special-token
    # candidates): the small vocabulary byte-falls-back a lot and the full
    # corpus would push the committed fixtures over 3 MB.
    lines4, t4 = encode_all(p4, corpus, gguf_special_ids(gg4), subset=lambda i, s: i % 4 == 0 or "<" in s)
    with open(os.path.join(OUT, "gemma4test_ids.txt"), "w") as f:
        f.write("\n".join(lines4) + "\n")
    byte4 = [tok4["model"]["vocab"]["<0x%02X>" % b] for b in range(256)]
    spec4 = [a["id"] for a in added4]
    with open(os.path.join(OUT, "gemma4test_decode.jsonl"), "w", encoding="utf-8") as f:
        f.write("\n".join(decode_cases(t4, len(pieces4), byte4, spec4, 8)) + "\n")
    print("corpus: %d strings; gemma4test vocab %d, merges %d" % (len(corpus), len(pieces4), len(tok4["model"]["merges"])))


if __name__ == "__main__":
    sys.exit(main())
