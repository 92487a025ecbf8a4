/* outparse.c — streaming Gemma 4 output parser (see outparse.h).
 * Three layers, each holding back only what it cannot decide yet:
 *  1. UTF-8: bytes -> whole code points (invalid bytes -> U+FFFD);
 *  2. special tokens: code points -> text units or markup symbols, holding a
 *     possible special-token prefix (all special tokens are ASCII, and none
 *     is a proper prefix of another, so a full match decides at once);
 *  3. the state machine: content / reasoning / tool-call head / arguments
 *     (Gemma syntax -> JSON, explicit bounded stack) / BEGIN_ARG variant.
 * NUL bytes are dropped. Deltas of one kind are coalesced and flushed at
 * every structural event and at the end of each feed. Nothing here allocates
 * per byte except buffer growth (amortised doubling). */
#include "tokenizer/outparse.h"

#include "core/strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum tok { T_NONE = 0, T_CHAN_OPEN, T_CHAN_CLOSE, T_CALL_OPEN, T_CALL_CLOSE, T_QUOTE, T_END, T_DROP };

static const struct special {
    const char *s;
    enum tok t;
    bool tool_only; /* recognised only when tools are enabled */
} SPECIALS[] = {
    {"<|channel>", T_CHAN_OPEN, false},   {"<channel|>", T_CHAN_CLOSE, false},
    {"<|tool_call>", T_CALL_OPEN, true},  {"<tool_call|>", T_CALL_CLOSE, true},
    {"<|\"|>", T_QUOTE, true},            {"<turn|>", T_END, false},
    {"<|tool_response>", T_END, false},   {"<eos>", T_END, false},
    {"<end_of_turn>", T_END, false},      {"<|turn>", T_END, false},
    {"<start_of_turn>", T_END, false},    {"<bos>", T_DROP, false},
    {"<pad>", T_DROP, false},             {"<|think|>", T_DROP, false},
    {"<|tool>", T_DROP, false},           {"<tool|>", T_DROP, false},
    {"<tool_response|>", T_DROP, false},  {"<|image|>", T_DROP, false},
    {"<|audio|>", T_DROP, false},         {"<|video|>", T_DROP, false},
    {"<|image>", T_DROP, false},          {"<image|>", T_DROP, false},
    {"<|audio>", T_DROP, false},          {"<audio|>", T_DROP, false},
};

enum state {
    S_CSTART,    /* start of content: whitespace and a possible bare "call:" held */
    S_CONTENT,
    S_REASON,
    S_CHAN_NAME, /* after <|channel>, the channel name up to '\n' */
    S_HEAD,      /* "call:NAME" up to '{' or ':' */
    S_ARGS,      /* Gemma argument object -> JSON */
    S_TAIL,      /* after a call: optional <tool_call|> */
    S_BA_WAIT,   /* BEGIN_ARG variant: expecting "BEGIN_ARG:" or the end */
    S_BA_VAL,    /* BEGIN_ARG variant: value up to "END_ARG" */
    S_SKIP,      /* malformed framed call: dropped up to <tool_call|> */
    S_DONE,      /* after an end token */
};

enum argpos {
    A_KEY_OR_END, A_KEY_BARE, A_KEY_Q, A_KEY_J, A_COLON, A_VALUE, A_AFTER,
    A_STR_G, A_STR_J, A_STR_J_ESC, A_BARE,
};

#define MAX_DEPTH 64
#define MAX_KEY 256
#define MAX_NAME 128
#define MAX_CHAN_NAME 32


struct g4_outparse {
    struct g4_outparse_opts opts;
    g4_outparse_cb cb;
    void *user;
    g4_status st;
    bool finished;
    /* layer 1 */
    uint8_t u8[4];
    int u8n, u8need;
    /* layer 2 */
    char pend[24];
    int pendn;
    /* layer 3 */
    enum state s;
    struct g4_strbuf out; /* coalesced delta */
    int out_type, out_index;
    struct g4_strbuf hold; /* S_CSTART / S_BA_WAIT held text */
    int hold_nonws;
    struct g4_strbuf key;  /* key, bare scalar, channel name, call name */
    struct g4_strbuf raw;  /* raw text of a bare call head (content fallback) */
    struct g4_strbuf val;  /* BEGIN_ARG value */
    bool framed;
    int head_pm, head_phase;
    int n_calls;
    bool in_call, call_truncated;
    char id[32];
    /* arguments */
    char kind[MAX_DEPTH];
    uint32_t cnt[MAX_DEPTH];
    int depth;
    enum argpos ap;
    int ba_nargs;
    bool ba_chan;
    const json_t *ba_fn; /* declared function of the BEGIN_ARG call, or NULL */
};

typedef struct g4_outparse P;

static void step(P *p, enum tok t, const char *u, int n);

/* ---- buffers and emission ------------------------------------------------ */

static void buf_add(P *p, struct g4_strbuf *b, const char *s, size_t n) {
    if (p->st != G4_OK) return;
    g4_strbuf_put(b, s, n);
    if (b->oom) p->st = G4_ERR_NOMEM;
}

static void flush(P *p) {
    if (p->out.n == 0) return;
    struct g4_outparse_event ev = {.type = (enum g4_outparse_event_type)p->out_type,
                                   .text = p->out.p, .len = p->out.n, .index = p->out_index};
    p->out.n = 0;
    p->cb(p->user, &ev);
}

static void emit_text(P *p, int type, const char *s, size_t n) {
    if (n == 0) return;
    int idx = type == G4_OUT_TOOL_ARGS ? p->n_calls - 1 : 0;
    if (p->out.n && (p->out_type != type || p->out_index != idx)) flush(p);
    p->out_type = type;
    p->out_index = idx;
    buf_add(p, &p->out, s, n);
}

static void emit_event(P *p, struct g4_outparse_event *ev) {
    flush(p);
    p->cb(p->user, ev);
}

static void args_s(P *p, const char *s) { emit_text(p, G4_OUT_TOOL_ARGS, s, strlen(s)); }

/* JSON-escapes one code point (1-4 bytes of valid UTF-8) into the arguments. */
static void args_esc(P *p, const char *u, int n) {
    if (n > 1) {
        emit_text(p, G4_OUT_TOOL_ARGS, u, (size_t)n);
        return;
    }
    unsigned char c = (unsigned char)u[0];
    char tmp[8];
    switch (c) {
    case '"': args_s(p, "\\\""); return;
    case '\\': args_s(p, "\\\\"); return;
    case '\n': args_s(p, "\\n"); return;
    case '\r': args_s(p, "\\r"); return;
    case '\t': args_s(p, "\\t"); return;
    case '\b': args_s(p, "\\b"); return;
    case '\f': args_s(p, "\\f"); return;
    default:
        if (c < 0x20) {
            snprintf(tmp, sizeof tmp, "\\u%04x", c);
            args_s(p, tmp);
        } else {
            emit_text(p, G4_OUT_TOOL_ARGS, u, 1);
        }
    }
}

/* JSON string of a byte run that is valid UTF-8 (our buffers only hold that). */
static void args_jstr(P *p, const char *s, size_t n) {
    args_s(p, "\"");
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        int k = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        if (i + (size_t)k > n) k = (int)(n - i);
        args_esc(p, s + i, k);
        i += (size_t)k;
    }
    args_s(p, "\"");
}

static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static void error_event(P *p, const char *msg) {
    struct g4_outparse_event ev = {.type = G4_OUT_ERROR, .text = msg, .len = strlen(msg),
                                   .index = p->n_calls - 1};
    emit_event(p, &ev);
}

/* ---- tools lookup -------------------------------------------------------- */

static const json_t *tool_fn(const P *p, const char *name) {
    const json_t *tools = p->opts.tools;
    if (!json_is_array(tools)) return NULL;
    for (size_t i = 0; i < json_array_size(tools); i++) {
        const json_t *t = json_array_get(tools, i);
        const json_t *f = json_object_get(t, "function");
        if (!f) f = t;
        const char *nm = json_string_value(json_object_get(f, "name"));
        if (nm && strcmp(nm, name) == 0) return f;
    }
    return NULL;
}

/* i-th declared parameter of `fn` (properties in declaration order). */
static const char *tool_param(const json_t *fn, int i, const json_t **schema) {
    const json_t *props = json_object_get(json_object_get(fn, "parameters"), "properties");
    if (!json_is_object(props)) return NULL;
    void *it = json_object_iter((json_t *)props);
    for (int k = 0; it && k < i; k++) it = json_object_iter_next((json_t *)props, it);
    if (!it) return NULL;
    *schema = json_object_iter_value(it);
    return json_object_iter_key(it);
}

/* ---- tool call start / end ----------------------------------------------- */

static uint64_t mix64(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

static void start_call(P *p) {
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    int index = p->n_calls++;
    uint64_t x = mix64(p->opts.id_seed ^ mix64((uint64_t)index + 1));
    memcpy(p->id, "call_", 5);
    for (int i = 0; i < 24; i++) {
        if (i % 8 == 0) x = mix64(x + (uint64_t)i);
        p->id[5 + i] = al[x % 62];
        x /= 62;
    }
    p->id[29] = 0;
    p->in_call = true;
    struct g4_outparse_event ev = {.type = G4_OUT_TOOL_START, .index = index, .id = p->id,
                                   .name = p->key.p ? p->key.p : ""};
    emit_event(p, &ev);
}

static void end_call(P *p) {
    struct g4_outparse_event ev = {.type = G4_OUT_TOOL_END, .index = p->n_calls - 1};
    emit_event(p, &ev);
    p->in_call = false;
}

static void to_cstart(P *p) {
    p->s = S_CSTART;
    p->hold.n = 0;
    p->hold_nonws = 0;
}

static void call_open(P *p, bool framed) {
    p->framed = framed;
    p->s = S_HEAD;
    p->key.n = 0;
    p->raw.n = 0;
    p->head_pm = framed ? 0 : 5;
    p->head_phase = framed ? 0 : 1;
    if (!framed) buf_add(p, &p->raw, "call:", 5);
}

/* ---- arguments: Gemma syntax -> JSON ------------------------------------- */

static bool is_number(const char *s, size_t n) {
    size_t i = 0;
    if (i < n && s[i] == '-') i++;
    if (i >= n) return false;
    if (s[i] == '0') i++;
    else if (s[i] >= '1' && s[i] <= '9') while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    else return false;
    if (i < n && s[i] == '.') {
        i++;
        size_t d = i;
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
        if (i == d) return false;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        size_t d = i;
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
        if (i == d) return false;
    }
    return i == n;
}

/* A number that overflows a double (1e999) is kept as a string: every JSON
 * parser can then read the arguments. */
static bool finite_number(const char *s, size_t n) {
    size_t i = 0;
    long digits = 0, exp = 0; /* decimal digits before the point (no leading zeros), exponent */
    bool lead = true;
    if (i < n && s[i] == '-') i++;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
        if (s[i] != '0') lead = false;
        if (!lead) digits++;
    }
    while (i < n && s[i] != 'e' && s[i] != 'E') i++;
    if (i < n) {
        i++;
        bool neg = i < n && s[i] == '-';
        if (i < n && (s[i] == '-' || s[i] == '+')) i++;
        for (; i < n && exp < 100000; i++) exp = exp * 10 + (s[i] - '0');
        if (neg) exp = -exp;
    }
    return digits + exp <= 300; /* locale-free: |x| < 1e300 */
}

static bool eq(const char *s, size_t n, const char *lit) { return n == strlen(lit) && memcmp(s, lit, n) == 0; }

/* Emits a bare scalar: JSON literal or number as is, Python literals mapped,
 * single-quoted text unquoted, anything else as a JSON string; empty -> null. */
static void bare_flush(P *p) {
    const char *s = p->key.p ? p->key.p : "";
    size_t n = p->key.n;
    while (n && is_ws(s[n - 1])) n--;
    if (n == 0 || eq(s, n, "null") || eq(s, n, "None")) args_s(p, "null");
    else if (eq(s, n, "true") || eq(s, n, "True")) args_s(p, "true");
    else if (eq(s, n, "false") || eq(s, n, "False")) args_s(p, "false");
    else if (is_number(s, n) && finite_number(s, n)) emit_text(p, G4_OUT_TOOL_ARGS, s, n);
    else if (n >= 2 && s[0] == '\'' && s[n - 1] == '\'') args_jstr(p, s + 1, n - 2);
    else args_jstr(p, s, n);
}

static void value_done(P *p) {
    p->cnt[p->depth - 1]++;
    p->ap = A_AFTER;
}

static void emit_key(P *p) {
    const char *s = p->key.p ? p->key.p : "";
    size_t n = p->key.n, a = 0;
    while (a < n && is_ws(s[a])) a++;
    while (n > a && is_ws(s[n - 1])) n--;
    if (p->cnt[p->depth - 1]) args_s(p, ",");
    args_jstr(p, s + a, n - a);
    args_s(p, ":");
    p->ap = A_VALUE;
}

static void close_frame(P *p) {
    args_s(p, p->kind[p->depth - 1] == 'o' ? "}" : "]");
    p->depth--;
    if (p->depth == 0) {
        end_call(p);
        p->s = S_TAIL;
    } else {
        value_done(p);
    }
}

/* Closes whatever is open so that the arguments are valid JSON, ends the call. */
static void close_all(P *p) {
    switch (p->ap) {
    case A_STR_G: case A_STR_J: case A_STR_J_ESC:
        args_s(p, "\"");
        value_done(p);
        break;
    case A_BARE:
        bare_flush(p);
        value_done(p);
        break;
    case A_VALUE:
        if (p->kind[p->depth - 1] == 'o') {
            args_s(p, "null");
            value_done(p);
        }
        break;
    default:
        break; /* a half-read key is dropped */
    }
    while (p->depth > 0) close_frame(p);
}

static void malformed(P *p, const char *what, const char *u, int n) {
    char msg[160];
    close_all(p);
    snprintf(msg, sizeof msg, "malformed tool call %d arguments: %s%s%.*s%s", p->n_calls - 1, what,
             u ? " '" : "", u ? n : 0, u ? u : "", u ? "'" : "");
    error_event(p, msg);
    p->s = p->framed ? S_SKIP : S_CONTENT;
}

/* A markup symbol inside arguments: channel markers and unknown markup are
 * dropped; <tool_call|>, <|tool_call> and end tokens close the call. */
static bool args_markup(P *p, enum tok t) {
    if (t == T_CHAN_OPEN || t == T_CHAN_CLOSE || t == T_DROP) return true;
    if (t == T_CALL_CLOSE || t == T_CALL_OPEN || t == T_END) {
        close_all(p);
        step(p, t, NULL, 0); /* S_TAIL handles the symbol */
        return true;
    }
    return false;
}

static void push(P *p, char kind, const char *u) {
    if (p->depth >= MAX_DEPTH) {
        malformed(p, "nesting deeper than 64", NULL, 0);
        return;
    }
    if (p->depth && p->kind[p->depth - 1] == 'a' && p->cnt[p->depth - 1]) args_s(p, ",");
    p->kind[p->depth] = kind;
    p->cnt[p->depth] = 0;
    p->depth++;
    args_s(p, u);
    p->ap = kind == 'o' ? A_KEY_OR_END : A_VALUE;
}

static void array_comma(P *p) {
    if (p->kind[p->depth - 1] == 'a' && p->cnt[p->depth - 1]) args_s(p, ",");
}

static void args_step(P *p, enum tok t, const char *u, int n) {
    char c = (t == T_NONE && n == 1) ? u[0] : 0;
    char top = p->kind[p->depth - 1];
    switch (p->ap) {
    case A_STR_G:
        if (t == T_QUOTE) {
            args_s(p, "\"");
            value_done(p);
        } else if (t == T_NONE) {
            args_esc(p, u, n);
        } else {
            args_markup(p, t);
        }
        return;
    case A_STR_J:
        if (t == T_NONE) {
            if (c == '"') {
                args_s(p, "\"");
                value_done(p);
            } else if (c == '\\') {
                p->ap = A_STR_J_ESC;
            } else {
                args_esc(p, u, n);
            }
        } else if (t == T_QUOTE) {
            args_s(p, "\"");
            value_done(p);
        } else {
            args_markup(p, t);
        }
        return;
    case A_STR_J_ESC:
        p->ap = A_STR_J;
        if (c && strchr("\"\\/bfnrt", c)) {
            char e[3] = {'\\', c, 0};
            args_s(p, e);
            return;
        }
        args_s(p, "\\\\"); /* not a simple escape: keep the backslash literally */
        args_step(p, t, u, n);
        return;
    case A_BARE:
        if (t == T_NONE && c != ',' && c != '}' && c != ']') {
            if (p->key.n + (size_t)n > MAX_KEY) {
                malformed(p, "unquoted value longer than 256 bytes", NULL, 0);
                return;
            }
            buf_add(p, &p->key, u, (size_t)n);
            return;
        }
        bare_flush(p);
        value_done(p);
        args_step(p, t, u, n);
        return;
    case A_KEY_OR_END:
        if (t == T_NONE) {
            if (is_ws(c) || c == ',') return;
            if (c == '}') {
                close_frame(p);
                return;
            }
            p->key.n = 0;
            if (c == '"') {
                p->ap = A_KEY_J;
                return;
            }
            if (c == ':' || c == '{' || c == '[' || c == ']') {
                malformed(p, "expected a key, got", u, n);
                return;
            }
            buf_add(p, &p->key, u, (size_t)n);
            p->ap = A_KEY_BARE;
            return;
        }
        if (t == T_QUOTE) {
            p->key.n = 0;
            p->ap = A_KEY_Q;
            return;
        }
        if (!args_markup(p, t)) malformed(p, "unexpected markup before a key", NULL, 0);
        return;
    case A_KEY_BARE:
        if (t == T_NONE) {
            if (c == ':') {
                emit_key(p);
                return;
            }
            if (c == '{' || c == '}' || c == '[' || c == ']' || c == ',') {
                malformed(p, "key without ':' before", u, n);
                return;
            }
            if (p->key.n + (size_t)n > MAX_KEY) {
                malformed(p, "key longer than 256 bytes", NULL, 0);
                return;
            }
            buf_add(p, &p->key, u, (size_t)n);
            return;
        }
        if (!args_markup(p, t)) malformed(p, "unexpected markup in a key", NULL, 0);
        return;
    case A_KEY_Q:
    case A_KEY_J:
        if ((p->ap == A_KEY_Q && t == T_QUOTE) || (p->ap == A_KEY_J && c == '"')) {
            p->ap = A_COLON;
            return;
        }
        if (t == T_NONE) {
            if (p->key.n + (size_t)n > MAX_KEY) {
                malformed(p, "key longer than 256 bytes", NULL, 0);
                return;
            }
            buf_add(p, &p->key, u, (size_t)n);
            return;
        }
        if (!args_markup(p, t)) malformed(p, "unexpected markup in a key", NULL, 0);
        return;
    case A_COLON:
        if (t == T_NONE && is_ws(c)) return;
        if (c == ':') {
            emit_key(p);
            return;
        }
        if (t == T_NONE) malformed(p, "expected ':' after a key, got", u, n);
        else if (!args_markup(p, t)) malformed(p, "expected ':' after a key", NULL, 0);
        return;
    case A_VALUE:
        if (t == T_QUOTE || c == '"') {
            array_comma(p);
            args_s(p, "\"");
            p->ap = t == T_QUOTE ? A_STR_G : A_STR_J;
            return;
        }
        if (t != T_NONE) {
            if (!args_markup(p, t)) malformed(p, "unexpected markup before a value", NULL, 0);
            return;
        }
        if (is_ws(c)) return;
        if (c == '{') {
            push(p, 'o', "{");
            return;
        }
        if (c == '[') {
            push(p, 'a', "[");
            return;
        }
        if (top == 'a' && c == ']') { /* empty array or trailing comma */
            close_frame(p);
            return;
        }
        if (top == 'a' && c == ',') return; /* [1,,2]: hole dropped */
        if (top == 'o' && (c == '}' || c == ',')) { /* {a:} / {a:,b:1}: null */
            args_s(p, "null");
            value_done(p);
            args_step(p, t, u, n);
            return;
        }
        if (c == '}' || c == ']' || c == ':') {
            malformed(p, "expected a value, got", u, n);
            return;
        }
        array_comma(p);
        p->key.n = 0;
        buf_add(p, &p->key, u, (size_t)n);
        p->ap = A_BARE;
        return;
    case A_AFTER:
        if (t != T_NONE) {
            if (!args_markup(p, t)) malformed(p, "unexpected markup after a value", NULL, 0);
            return;
        }
        if (is_ws(c)) return;
        if (c == ',') {
            p->ap = top == 'o' ? A_KEY_OR_END : A_VALUE;
            return;
        }
        if ((c == '}' && top == 'o') || (c == ']' && top == 'a')) {
            close_frame(p);
            return;
        }
        malformed(p, "expected ',' or a closing bracket, got", u, n);
        return;
    }
}

/* ---- BEGIN_ARG variant (ollama #18275): call:NAME: BEGIN_ARG: v END_ARG ... */

static void ba_emit_arg(P *p) {
    const char *v = p->val.p ? p->val.p : "";
    size_t n = p->val.n, a = 0;
    while (a < n && (v[a] == ' ' || v[a] == '\t')) a++;
    if (a < n && v[a] == '\n') a++;
    else a = 0;
    if (n > a && v[n - 1] == '\n') n--;
    args_s(p, p->ba_nargs ? "," : "{");
    const json_t *schema = NULL;
    const char *name = p->ba_fn ? tool_param(p->ba_fn, p->ba_nargs, &schema) : NULL;
    char gen[32];
    if (!name) {
        snprintf(gen, sizeof gen, "arg%d", p->ba_nargs);
        name = gen;
    }
    args_jstr(p, name, strlen(name));
    args_s(p, ":");
    const char *type = json_string_value(json_object_get(schema, "type"));
    json_t *lit = NULL;
    if (type && strcmp(type, "string") != 0) lit = json_loadb(v + a, n - a, JSON_DECODE_ANY, NULL);
    char *dump = lit ? json_dumps(lit, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    if (dump) args_s(p, dump);
    else args_jstr(p, v + a, n - a);
    free(dump);
    json_decref(lit);
    p->ba_nargs++;
    p->val.n = 0;
}

static void ba_end_call(P *p) {
    args_s(p, p->ba_nargs ? "}" : "{}");
    end_call(p);
    p->s = S_TAIL;
}

static void ba_step(P *p, enum tok t, const char *u, int n) {
    static const char BEGIN[] = "BEGIN_ARG:";
    if (p->ba_chan) { /* malformed channel markers inside the call are dropped */
        if (t == T_CHAN_CLOSE) p->ba_chan = false;
        if (t != T_CALL_CLOSE && t != T_CALL_OPEN && t != T_END) return;
        p->ba_chan = false;
    }
    if (t == T_CHAN_OPEN) {
        p->ba_chan = true;
        return;
    }
    if (t == T_CHAN_CLOSE || t == T_DROP) return;
    if (p->s == S_BA_VAL) {
        if (t == T_NONE || t == T_QUOTE) {
            if (t == T_QUOTE) buf_add(p, &p->val, "\"", 1);
            else buf_add(p, &p->val, u, (size_t)n);
            if (p->val.n >= 7 && memcmp(p->val.p + p->val.n - 7, "END_ARG", 7) == 0) {
                p->val.n -= 7;
                ba_emit_arg(p);
                p->s = S_BA_WAIT;
                p->hold.n = 0;
            }
            return;
        }
        ba_emit_arg(p);
        ba_end_call(p);
        step(p, t, u, n);
        return;
    }
    /* S_BA_WAIT */
    char c = (t == T_NONE && n == 1) ? u[0] : 0;
    if (t == T_NONE && p->hold.n == 0 && is_ws(c)) return;
    if (c && p->hold.n < 10 && c == BEGIN[p->hold.n]) {
        buf_add(p, &p->hold, u, 1);
        if (p->hold.n == 10) {
            p->hold.n = 0;
            p->val.n = 0;
            p->s = S_BA_VAL;
        }
        return;
    }
    /* the call is over: replay what was held as ordinary text */
    char held[16];
    size_t k = p->hold.n;
    memcpy(held, p->hold.p ? p->hold.p : "", k);
    ba_end_call(p);
    for (size_t i = 0; i < k; i++) step(p, T_NONE, held + i, 1);
    step(p, t, u, n);
}

/* ---- call head: "call:NAME" then '{' or ':' ------------------------------ */

static bool is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
}

static void head_fail(P *p, enum tok t, const char *u, int n) {
    if (p->framed) {
        char msg[200];
        snprintf(msg, sizeof msg, "malformed tool call: expected call:NAME{...} after <|tool_call>");
        error_event(p, msg);
        p->s = S_SKIP;
        if (t != T_NONE) step(p, t, u, n);
        return;
    }
    /* a bare "call:" that is not a call: it was text */
    emit_text(p, G4_OUT_CONTENT, p->raw.p, p->raw.n);
    p->s = S_CONTENT;
    step(p, t, u, n);
}

static void head_step(P *p, enum tok t, const char *u, int n) {
    char c = (t == T_NONE && n == 1) ? u[0] : 0;
    if (t != T_NONE) {
        head_fail(p, t, u, n);
        return;
    }
    if (p->head_phase == 0) {
        if (is_ws(c) && p->head_pm == 0) return;
        if (p->head_pm < 5 && c == "call:"[p->head_pm]) {
            if (++p->head_pm == 5) p->head_phase = 1;
            return;
        }
        buf_add(p, &p->key, "call:", (size_t)p->head_pm); /* lenient: "<|tool_call>NAME{" */
        p->head_phase = 1;
    }
    if (p->head_phase == 1 && is_name_char(c)) {
        if (p->key.n >= MAX_NAME) {
            head_fail(p, t, u, n);
            return;
        }
        buf_add(p, &p->key, u, 1);
        buf_add(p, &p->raw, u, 1);
        return;
    }
    if (is_ws(c)) {
        if (p->key.n) p->head_phase = 2;
        buf_add(p, &p->raw, u, 1);
        return;
    }
    if ((c == '{' || c == ':') && p->key.n &&
        (p->framed || !json_is_array(p->opts.tools) || tool_fn(p, p->key.p))) {
        start_call(p);
        if (c == '{') {
            p->s = S_ARGS;
            p->depth = 0;
            push(p, 'o', "{");
        } else {
            p->ba_fn = tool_fn(p, p->key.p);
            p->ba_nargs = 0;
            p->ba_chan = false;
            p->hold.n = 0;
            p->s = S_BA_WAIT;
        }
        return;
    }
    head_fail(p, t, u, n);
}

/* ---- content start: leading whitespace and a bare "call:" are held ------- */

static void flush_hold_content(P *p) {
    if (p->hold.n) emit_text(p, G4_OUT_CONTENT, p->hold.p, p->hold.n);
    p->hold.n = 0;
    p->hold_nonws = 0;
}

static void cstart_step(P *p, enum tok t, const char *u, int n) {
    char c = (t == T_NONE && n == 1) ? u[0] : 0;
    if (t == T_QUOTE || t == T_DROP || t == T_CHAN_CLOSE || t == T_CALL_CLOSE) return; /* stray markup */
    if (t != T_NONE) {
        if (p->hold_nonws == 0) p->hold.n = 0; /* whitespace before a call, a channel or the end */
        flush_hold_content(p);
        p->s = S_CONTENT;
        step(p, t, u, n);
        return;
    }
    if (is_ws(c) && p->hold_nonws == 0) {
        buf_add(p, &p->hold, u, 1);
        return;
    }
    if (p->opts.tools_enabled && c && p->hold_nonws < 5 && c == "call:"[p->hold_nonws]) {
        buf_add(p, &p->hold, u, 1);
        if (++p->hold_nonws == 5) {
            p->hold.n = 0;
            p->hold_nonws = 0;
            call_open(p, false);
        }
        return;
    }
    flush_hold_content(p);
    p->s = S_CONTENT;
    step(p, t, u, n);
}

/* ---- layer 3 dispatch ---------------------------------------------------- */

static void step(P *p, enum tok t, const char *u, int n) {
    if (p->st != G4_OK) return;
    switch (p->s) {
    case S_DONE:
        return;
    case S_CSTART:
        cstart_step(p, t, u, n);
        return;
    case S_CONTENT:
    case S_REASON:
        if (t == T_NONE) emit_text(p, p->s == S_REASON ? G4_OUT_REASONING : G4_OUT_CONTENT, u, (size_t)n);
        else if (t == T_CHAN_OPEN && p->s == S_CONTENT) {
            p->key.n = 0;
            p->s = S_CHAN_NAME;
        } else if (t == T_CHAN_CLOSE && p->s == S_REASON) to_cstart(p);
        else if (t == T_CALL_OPEN) call_open(p, true);
        else if (t == T_END) p->s = S_DONE;
        /* other markup is dropped */
        return;
    case S_CHAN_NAME:
        if (t == T_NONE) {
            if (n == 1 && u[0] == '\n') {
                p->s = S_REASON;
            } else if (p->key.n + (size_t)n > MAX_CHAN_NAME) { /* no name line: it was reasoning */
                p->s = S_REASON;
                emit_text(p, G4_OUT_REASONING, p->key.p, p->key.n);
                emit_text(p, G4_OUT_REASONING, u, (size_t)n);
            } else {
                buf_add(p, &p->key, u, (size_t)n);
            }
            return;
        }
        if (t == T_CHAN_CLOSE) to_cstart(p);
        else if (t == T_END) p->s = S_DONE;
        else if (t == T_CALL_OPEN) call_open(p, true);
        return;
    case S_HEAD:
        head_step(p, t, u, n);
        return;
    case S_ARGS:
        args_step(p, t, u, n);
        return;
    case S_TAIL:
        if (t == T_NONE && n == 1 && is_ws(u[0])) return;
        to_cstart(p);
        if (t == T_CALL_CLOSE) return;
        step(p, t, u, n);
        return;
    case S_BA_WAIT:
    case S_BA_VAL:
        ba_step(p, t, u, n);
        return;
    case S_SKIP:
        if (t == T_CALL_CLOSE) to_cstart(p);
        else if (t == T_CALL_OPEN) call_open(p, true);
        else if (t == T_END) p->s = S_DONE;
        return;
    }
}

/* ---- layer 2: special tokens --------------------------------------------- */

static void l2_unit(P *p, const char *u, int n);

static void l2_replay(P *p) {
    char tmp[24];
    int k = p->pendn;
    memcpy(tmp, p->pend, (size_t)k);
    p->pendn = 0;
    step(p, T_NONE, tmp, 1);
    for (int i = 1; i < k; i++) l2_unit(p, tmp + i, 1);
}

static void l2_unit(P *p, const char *u, int n) {
    if (p->pendn == 0 && !(n == 1 && u[0] == '<')) {
        step(p, T_NONE, u, n);
        return;
    }
    if (n != 1) {
        while (p->pendn) l2_replay(p);
        step(p, T_NONE, u, n);
        return;
    }
    p->pend[p->pendn++] = u[0];
    bool prefix = false;
    for (size_t i = 0; i < G4_ARRAY_LEN(SPECIALS); i++) {
        const struct special *sp = &SPECIALS[i];
        if (sp->tool_only && !p->opts.tools_enabled) continue;
        size_t len = strlen(sp->s);
        if (len < (size_t)p->pendn || memcmp(sp->s, p->pend, (size_t)p->pendn) != 0) continue;
        if (len == (size_t)p->pendn) {
            p->pendn = 0;
            step(p, sp->t, NULL, 0);
            return;
        }
        prefix = true;
    }
    if (!prefix) l2_replay(p);
}

/* ---- layer 1: UTF-8 ------------------------------------------------------- */

static const char REPL[] = "\xEF\xBF\xBD";

static void l1_byte(P *p, uint8_t b) {
    if (p->u8need == 0) {
        int need;
        if (b == 0) return; /* NUL never reaches events: C strings and JSON keys stay intact */
        if (b < 0x80) {
            char c = (char)b;
            l2_unit(p, &c, 1);
            return;
        }
        if (b >= 0xC2 && b <= 0xDF) need = 1;
        else if (b >= 0xE0 && b <= 0xEF) need = 2;
        else if (b >= 0xF0 && b <= 0xF4) need = 3;
        else {
            l2_unit(p, REPL, 3);
            return;
        }
        p->u8[0] = b;
        p->u8n = 1;
        p->u8need = need;
        return;
    }
    uint8_t lo = 0x80, hi = 0xBF;
    if (p->u8n == 1) {
        switch (p->u8[0]) {
        case 0xE0: lo = 0xA0; break;
        case 0xED: hi = 0x9F; break;
        case 0xF0: lo = 0x90; break;
        case 0xF4: hi = 0x8F; break;
        default: break;
        }
    }
    if (b < lo || b > hi) {
        p->u8need = 0;
        p->u8n = 0;
        l2_unit(p, REPL, 3);
        l1_byte(p, b);
        return;
    }
    p->u8[p->u8n++] = b;
    if (--p->u8need == 0) {
        char tmp[4];
        int k = p->u8n;
        memcpy(tmp, p->u8, (size_t)k);
        p->u8n = 0;
        l2_unit(p, tmp, k);
    }
}

/* ---- public API ----------------------------------------------------------- */

g4_status g4_outparse_init(struct g4_outparse **out, const struct g4_outparse_opts *opts,
                           g4_outparse_cb cb, void *user, g4_error *err) {
    if (!out || !cb) return g4_fail(err, G4_ERR_INVALID_ARG, "outparse: NULL argument");
    *out = NULL;
    P *p = calloc(1, sizeof *p);
    if (!p) return g4_fail(err, G4_ERR_NOMEM, "outparse: out of memory");
    if (opts) p->opts = *opts;
    p->cb = cb;
    p->user = user;
    p->s = p->opts.start_in_reasoning ? S_REASON : S_CSTART;
    *out = p;
    return G4_OK;
}

void g4_outparse_free(struct g4_outparse *p) {
    if (!p) return;
    free(p->out.p);
    free(p->hold.p);
    free(p->key.p);
    free(p->raw.p);
    free(p->val.p);
    free(p);
}

int g4_outparse_n_tool_calls(const struct g4_outparse *p) { return p ? p->n_calls : 0; }

bool g4_outparse_in_reasoning(const struct g4_outparse *p) {
    return p && (p->s == S_REASON || p->s == S_CHAN_NAME);
}

g4_status g4_outparse_feed(struct g4_outparse *p, const char *text, size_t n, g4_error *err) {
    if (!p || (!text && n)) return g4_fail(err, G4_ERR_INVALID_ARG, "outparse: NULL argument");
    if (p->finished) return g4_fail(err, G4_ERR_INVALID_ARG, "outparse: feed after finish");
    for (size_t i = 0; i < n && p->st == G4_OK; i++) l1_byte(p, (uint8_t)text[i]);
    flush(p);
    if (p->st != G4_OK) return g4_fail(err, p->st, "outparse: out of memory");
    return G4_OK;
}

g4_status g4_outparse_finish(struct g4_outparse *p, bool length_cap, g4_error *err) {
    if (!p) return g4_fail(err, G4_ERR_INVALID_ARG, "outparse: NULL argument");
    if (p->finished) return g4_fail(err, G4_ERR_INVALID_ARG, "outparse: finished twice");
    p->finished = true;
    if (p->u8n) {
        p->u8n = p->u8need = 0;
        l2_unit(p, REPL, 3);
    }
    while (p->pendn) l2_replay(p);
    if (p->st == G4_OK) {
        switch (p->s) {
        case S_CSTART:
            if (p->hold_nonws) flush_hold_content(p);
            break;
        case S_HEAD:
            if (p->framed) error_event(p, "malformed tool call: output ended inside the call name");
            else emit_text(p, G4_OUT_CONTENT, p->raw.p, p->raw.n);
            break;
        case S_ARGS:
            p->call_truncated = true;
            close_all(p);
            break;
        case S_BA_VAL:
            p->call_truncated = true;
            ba_emit_arg(p);
            ba_end_call(p);
            break;
        case S_BA_WAIT:
            ba_end_call(p);
            break;
        default:
            break;
        }
    }
    flush(p);
    if (p->st != G4_OK) return g4_fail(err, p->st, "outparse: out of memory");
    const char *reason = "stop";
    if (length_cap && p->call_truncated) reason = "length";
    else if (p->n_calls) reason = "tool_calls";
    else if (length_cap) reason = "length";
    struct g4_outparse_event ev = {.type = G4_OUT_FINISH, .finish_reason = reason};
    p->cb(p->user, &ev);
    return G4_OK;
}
