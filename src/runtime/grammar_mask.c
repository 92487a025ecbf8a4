/* grammar_mask.c — allowed-token bitmasks for a grammar state.
 * The vocabulary is stored once as a byte trie (first-child / next-sibling);
 * a mask is one depth-first walk of the trie with the matcher, a subtree
 * being skipped as soon as its prefix is rejected. The walk keeps one state
 * per trie depth in a scratch array owned by the vocab (allocated at build,
 * so filling a mask allocates nothing). Special tokens are symbol bytes (see
 * grammar.h); end tokens are allowed exactly when the state is complete. */
#include "runtime/grammar_impl.h"

#include <stdlib.h>
#include <string.h>

struct tnode {
    uint32_t child, sibling; /* 0: none (node 0 is the root, never a child) */
    int32_t tok;             /* first token ending here, or -1 */
    uint8_t byte;
};

/* Plain-text classes: a token is JSON-plain if its bytes are whole UTF-8
 * characters with no '"', '\\', control byte or symbol; Gemma-plain if they
 * are whole UTF-8 characters with no NUL or symbol. Inside a string (or a
 * thought) every plain token is accepted, so those states take the
 * precomputed plain mask and walk only the trie of the other tokens. */
enum { CLS_NONE = 0, CLS_JSON = 1, CLS_GEMMA = 2 };
#define MAX_TOKEN_BYTES 256 /* longer tokens are never allowed (Gemma's longest is 93); bounds the scratch */
#define PLAIN_LE_MAX 16 /* strings with maxLength: per-length plain masks up to this many code points left */

struct g4_grammar_vocab {
    int n_tokens;
    uint32_t root[3];            /* full trie, non-JSON-plain trie, non-Gemma-plain trie */
    uint64_t *plain[3];          /* [CLS_JSON], [CLS_GEMMA] masks */
    uint32_t max_plain_cps[3];   /* longest plain token in code points */
    uint64_t *plain_le[3][PLAIN_LE_MAX + 1]; /* [cls][k]: plain tokens of at most k code points */
    struct tnode *nodes;
    uint32_t n_nodes, cap_nodes;
    int32_t *tok_next[3]; /* per trie: next token ending at the same node, or -1 */
    int32_t *ends;      /* end-of-generation tokens */
    uint32_t *tok_off;  /* [n_tokens+1] token i's accepted bytes: tok_bytes[tok_off[i] .. tok_off[i+1]) */
    uint8_t *tok_bytes; /* empty for never-allowed tokens; the symbol for special ones */
    uint8_t *tok_kind;
    int n_ends;
    int max_len;
    struct g4_grammar_state *scratch; /* max_len + 1 states */
};

static const struct {
    const char *s;
    uint8_t sym;
} SYMBOLS[] = {{"<|\"|>", G4_SYM_QUOTE},          {"<|tool_call>", G4_SYM_CALL_OPEN},
               {"<tool_call|>", G4_SYM_CALL_CLOSE}, {"<|channel>", G4_SYM_CHAN_OPEN},
               {"<channel|>", G4_SYM_CHAN_CLOSE}};

static int64_t add_tnode(struct g4_grammar_vocab *v, uint8_t byte) {
    if (v->n_nodes == v->cap_nodes) {
        uint32_t cap = v->cap_nodes ? v->cap_nodes * 2 : 1024;
        if (cap > (1u << 30)) return -1;
        struct tnode *q = realloc(v->nodes, (size_t)cap * sizeof *q);
        if (!q) return -1;
        v->nodes = q;
        v->cap_nodes = cap;
    }
    struct tnode *n = &v->nodes[v->n_nodes];
    n->child = n->sibling = 0;
    n->tok = -1;
    n->byte = byte;
    return v->n_nodes++;
}

static bool insert(struct g4_grammar_vocab *v, uint32_t root, int32_t *next, int id, const uint8_t *b,
                   uint32_t len) {
    uint32_t cur = root;
    for (uint32_t i = 0; i < len; i++) {
        uint32_t c = v->nodes[cur].child, prev = 0;
        while (c && v->nodes[c].byte != b[i]) prev = c, c = v->nodes[c].sibling;
        if (!c) {
            int64_t nn = add_tnode(v, b[i]);
            if (nn < 0) return false;
            c = (uint32_t)nn;
            if (prev) v->nodes[prev].sibling = c;
            else v->nodes[cur].child = c;
        }
        cur = c;
    }
    next[id] = v->nodes[cur].tok;
    v->nodes[cur].tok = id;
    return true;
}

/* Code points of a plain token of class cls, or -1 if it is not plain. */
static int plain_cps(const uint8_t *b, uint32_t len, int cls) {
    int cps = 0;
    for (uint32_t i = 0; i < len;) {
        uint8_t c = b[i];
        int k = c < 0x80 ? 0 : (c >= 0xC2 && c <= 0xDF) ? 1 : (c >= 0xE0 && c <= 0xEF) ? 2 : (c >= 0xF0 && c <= 0xF4) ? 3 : -1;
        if (k < 0 || i + (uint32_t)k >= len + (k ? 0u : 1u)) return -1;
        if (k == 0) {
            if (c == 0) return -1;
            if (cls == CLS_JSON && (c < 0x20 || c == '"' || c == '\\')) return -1;
        } else {
            uint8_t lo = 0x80, hi = 0xBF;
            if (c == 0xE0) lo = 0xA0;
            if (c == 0xED) hi = 0x9F;
            if (c == 0xF0) lo = 0x90;
            if (c == 0xF4) hi = 0x8F;
            if (i + (uint32_t)k >= len) return -1;
            for (int j = 1; j <= k; j++) {
                uint8_t d = b[i + (uint32_t)j];
                if (d < (j == 1 ? lo : 0x80) || d > (j == 1 ? hi : 0xBF)) return -1;
            }
        }
        i += (uint32_t)k + 1;
        cps++;
    }
    return cps;
}

g4_status g4_grammar_vocab_new(int n_tokens, const char *const *bytes, const uint32_t *lens,
                               const uint8_t *kinds, struct g4_grammar_vocab **out, g4_error *err) {
    if (!out || n_tokens <= 0 || !bytes || !lens) return g4_fail(err, G4_ERR_INVALID_ARG, "grammar vocab: bad arguments");
    *out = NULL;
    struct g4_grammar_vocab *v = calloc(1, sizeof *v);
    if (!v) return g4_fail(err, G4_ERR_NOMEM, "grammar vocab: out of memory");
    v->n_tokens = n_tokens;
    size_t words = (size_t)(n_tokens + 63) / 64;
    for (int c = 0; c < 3; c++) {
        v->tok_next[c] = malloc((size_t)n_tokens * sizeof *v->tok_next[c]);
        v->plain[c] = calloc(words, sizeof *v->plain[c]);
        int64_t r = add_tnode(v, 0);
        if (!v->tok_next[c] || !v->plain[c] || r < 0) goto oom;
        v->root[c] = (uint32_t)r;
    }
    v->ends = malloc((size_t)n_tokens * sizeof *v->ends);
    v->tok_off = calloc((size_t)n_tokens + 1, sizeof *v->tok_off);
    v->tok_kind = calloc((size_t)n_tokens, 1);
    uint64_t total = 0;
    for (int i = 0; i < n_tokens; i++) total += lens[i] <= MAX_TOKEN_BYTES ? lens[i] : 0;
    v->tok_bytes = total < (1ull << 31) ? malloc(total + 1) : NULL;
    if (!v->ends || !v->tok_off || !v->tok_kind || !v->tok_bytes) goto oom;
    uint32_t used = 0;
    for (int i = 0; i < n_tokens; i++) {
        int kind = kinds ? kinds[i] : G4_VOCAB_NORMAL;
        const uint8_t *b = (const uint8_t *)bytes[i];
        uint32_t len = lens[i];
        for (int c = 0; c < 3; c++) v->tok_next[c][i] = -1;
        v->tok_off[i] = used;
        v->tok_off[i + 1] = used;
        v->tok_kind[i] = (uint8_t)kind;
        if (kind == G4_VOCAB_END) {
            v->ends[v->n_ends++] = i;
            continue;
        }
        if (kind == G4_VOCAB_SPECIAL) {
            uint8_t sym = 0;
            for (size_t k = 0; k < G4_ARRAY_LEN(SYMBOLS); k++)
                if (b && strlen(SYMBOLS[k].s) == len && memcmp(SYMBOLS[k].s, b, len) == 0) sym = SYMBOLS[k].sym;
            for (int c = 0; c < 3 && sym; c++)
                if (!insert(v, v->root[c], v->tok_next[c], i, &sym, 1)) goto oom;
            if (sym) v->tok_bytes[used++] = sym;
            v->tok_off[i + 1] = used;
            continue;
        }
        if (!b || len == 0 || len > MAX_TOKEN_BYTES) continue;
        bool ok = true;
        for (uint32_t k = 0; k < len && ok; k++) ok = b[k] < 0xF8;
        if (!ok) continue;
        if (!insert(v, v->root[0], v->tok_next[0], i, b, len)) goto oom;
        memcpy(v->tok_bytes + used, b, len);
        used += len;
        v->tok_off[i + 1] = used;
        for (int c = CLS_JSON; c <= CLS_GEMMA; c++) {
            int cps = plain_cps(b, len, c);
            if (cps < 0) {
                if (!insert(v, v->root[c], v->tok_next[c], i, b, len)) goto oom;
            } else {
                v->plain[c][i >> 6] |= 1ull << (i & 63);
                for (int k = cps; k <= PLAIN_LE_MAX; k++) {
                    if (!v->plain_le[c][k] && !(v->plain_le[c][k] = calloc(words, sizeof(uint64_t)))) goto oom;
                    v->plain_le[c][k][i >> 6] |= 1ull << (i & 63);
                }
                if ((uint32_t)cps > v->max_plain_cps[c]) v->max_plain_cps[c] = (uint32_t)cps;
            }
        }
        if ((int)len > v->max_len) v->max_len = (int)len;
    }
    v->scratch = malloc((size_t)(v->max_len + 2) * sizeof *v->scratch);
    if (!v->scratch) goto oom;
    *out = v;
    return G4_OK;
oom:
    g4_grammar_vocab_free(v);
    return g4_fail(err, G4_ERR_NOMEM, "grammar vocab: out of memory");
}

void g4_grammar_vocab_free(struct g4_grammar_vocab *v) {
    if (!v) return;
    free(v->nodes);
    for (int c = 0; c < 3; c++) {
        free(v->tok_next[c]);
        free(v->plain[c]);
        for (int k = 0; k <= PLAIN_LE_MAX; k++) free(v->plain_le[c][k]);
    }
    free(v->ends);
    free(v->tok_off);
    free(v->tok_bytes);
    free(v->tok_kind);
    free(v->scratch);
    free(v);
}

int g4_grammar_vocab_size(const struct g4_grammar_vocab *v) { return v ? v->n_tokens : 0; }

bool g4_grammar_accept_token(const struct g4_grammar_vocab *v, struct g4_grammar_state *s, int id) {
    if (!v || !s || id < 0 || id >= v->n_tokens || s->dead) return false;
    if (v->tok_kind[id] == G4_VOCAB_END) {
        if (g4_grammar_is_complete(s)) return true;
        s->dead = true;
        return false;
    }
    uint32_t a = v->tok_off[id], b = v->tok_off[id + 1];
    if (a == b) {
        s->dead = true;
        return false;
    }
    return g4_grammar_accept_bytes(s, v->tok_bytes + a, b - a);
}

static void walk(struct g4_grammar_vocab *v, const int32_t *next, uint32_t first, int depth, uint64_t *mask) {
    const struct g4_grammar_state *parent = &v->scratch[depth];
    struct g4_grammar_state *s = &v->scratch[depth + 1];
    for (uint32_t c = first; c; c = v->nodes[c].sibling) {
        const struct tnode *n = &v->nodes[c];
        g4_grammar_state_copy(s, parent);
        if (!g4_grammar_accept_bytes(s, &n->byte, 1)) continue;
        for (int32_t t = n->tok; t >= 0; t = next[t]) mask[t >> 6] |= 1ull << (t & 63);
        if (n->child) walk(v, next, n->child, depth + 1, mask);
    }
}

/* The plain class whose tokens the thread accepts (all of them, or those in
 * *le when a maxLength leaves few code points), if any. */
static int plain_class(const struct g4_grammar_vocab *v, const struct g4_grammar *g, const struct gthread *t,
                       const uint64_t **pm) {
    const struct gframe *f = &t->f[t->depth - 1];
    if (f->sub != 0) return CLS_NONE;
    int cls = g->flavor == FLAVOR_GEMMA ? CLS_GEMMA : CLS_JSON;
    *pm = v->plain[cls];
    if (f->kind == F_STR) {
        uint32_t mx = gnode_str_max(g, &g->nodes[f->node]);
        if (mx == UINT32_MAX) return cls;
        uint32_t left = f->count >= mx ? 0 : mx - f->count;
        if (left >= v->max_plain_cps[cls]) return cls;
        if (left > PLAIN_LE_MAX) return CLS_NONE;
        *pm = v->plain_le[cls][left]; /* NULL: no plain token is short enough */
        return cls;
    }
    /* a free key: every plain token, while it cannot reach the key cap */
    if (f->kind == F_KEY && g->nodes[f->node].addl >= 0 && f->count + MAX_TOKEN_BYTES <= G4_GRAMMAR_MAX_KEY_BYTES)
        return CLS_JSON;
    if (f->kind == F_TC && f->phase == 1 /* TC_THOUGHT */) return CLS_GEMMA;
    return CLS_NONE;
}

g4_status g4_grammar_fill_mask(struct g4_grammar_vocab *v, const struct g4_grammar_state *s, uint64_t *mask,
                               g4_error *err) {
    if (!v || !s || !mask) return g4_fail(err, G4_ERR_INVALID_ARG, "grammar mask: NULL argument");
    memset(mask, 0, (size_t)(v->n_tokens + 63) / 64 * sizeof *mask);
    if (s->dead) return G4_OK;
    if (g4_grammar_is_complete(s))
        for (int i = 0; i < v->n_ends; i++) mask[v->ends[i] >> 6] |= 1ull << (v->ends[i] & 63);
    size_t words = (size_t)(v->n_tokens + 63) / 64;
    for (int i = 0; i < s->n_threads; i++) { /* union over threads, each with its fast path */
        struct g4_grammar_state *one = &v->scratch[0];
        one->g = s->g;
        one->dead = false;
        one->n_threads = 1;
        one->t[0].depth = s->t[i].depth;
        memcpy(one->t[0].f, s->t[i].f, (size_t)s->t[i].depth * sizeof s->t[i].f[0]);
        const uint64_t *pm = NULL;
        int cls = plain_class(v, s->g, &s->t[i], &pm);
        if (cls && pm)
            for (size_t w = 0; w < words; w++) mask[w] |= pm[w];
        walk(v, v->tok_next[cls], v->nodes[v->root[cls]].child, 0, mask);
    }
    return G4_OK;
}
