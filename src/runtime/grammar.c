/* grammar.c — the incremental matcher over a compiled grammar (see grammar.h).
 * A state is a set of threads; a thread is an explicit stack of frames (object,
 * array, string, key, number, literal, root / tool-call sequence). Frames that
 * end deterministically (strings, objects, arrays) consume their closing byte
 * and pop; numbers and literals end by lookahead: a byte they cannot take pops
 * them (if complete) and goes to the parent. anyOf pushes a FORK frame that the
 * state loop expands into one thread per alternative. Everything lives in the
 * preallocated state; the hot path only copies frames. */
#include "runtime/grammar_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { R_REJECT = 0, R_OK, R_FORK, R_PASS };

enum { O_START, O_INKEY, O_COLON, O_VALWS, O_INVAL, O_AFTER, O_KEYWS };
enum { A_START, A_INVAL, A_AFTER, A_VALWS };
enum { R_START, R_INVAL, R_END };
enum { TC_START, TC_THOUGHT, TC_NAME, TC_INARGS, TC_AFTER, TC_DONE };
enum { N_START, N_MINUS, N_ZERO, N_INT, N_DOT, N_FRAC, N_E, N_ESIGN, N_EXP };

#define SUB_ESC 1
#define SUB_HEX0 2 /* 2..5: hex digits of \uXXXX (f->a accumulates the value) */
#define SUB_NEED_BS 6 /* after a high surrogate escape (f->fdig = 1) */
#define SUB_NEED_U 7
#define SUB_U8 10  /* 10 + k: k continuation bytes pending */

static inline bool ws_byte(uint8_t b) { return b == ' ' || b == '\t' || b == '\n' || b == '\r'; }

static inline int take_ws(const struct g4_grammar *g, struct gframe *f) {
    if (f->ws >= g->max_ws) return R_REJECT;
    f->ws++;
    return R_OK;
}

static struct gframe *push(struct gthread *t, int kind, int32_t node) {
    if (t->depth >= G4_GRAMMAR_MAX_DEPTH) return NULL;
    struct gframe *f = &t->f[t->depth++];
    memset(f, 0, sizeof *f);
    f->kind = (uint8_t)kind;
    f->node = node;
    return f;
}

static uint64_t low_bits(int n) { return n >= 64 ? ~0ull : (1ull << n) - 1; }

/* ---- UTF-8 lead bytes ------------------------------------------------------ */

/* Starts a code point at lead byte b: returns pending continuation count
 * (0 for ASCII), or -1 if b cannot start one. Sets f->u8lo/u8hi. */
static int utf8_lead(struct gframe *f, uint8_t b) {
    f->u8lo = 0x80;
    f->u8hi = 0xBF;
    if (b < 0x80) return 0;
    if (b >= 0xC2 && b <= 0xDF) return 1;
    if (b >= 0xE0 && b <= 0xEF) {
        if (b == 0xE0) f->u8lo = 0xA0;
        if (b == 0xED) f->u8hi = 0x9F;
        return 2;
    }
    if (b >= 0xF0 && b <= 0xF4) {
        if (b == 0xF0) f->u8lo = 0x90;
        if (b == 0xF4) f->u8hi = 0x8F;
        return 3;
    }
    return -1;
}

/* ---- values ------------------------------------------------------------------ */

static int lit_byte(const struct g4_grammar *g, struct gframe *f, uint8_t b) {
    uint64_t nb = 0, bits = f->bits;
    uint32_t pos = f->count;
    bool complete = false;
    for (int i = 0; bits; i++, bits >>= 1) {
        if (!(bits & 1)) continue;
        struct gstr L = g->lits[f->a + i];
        if (L.len > pos && (uint8_t)g->pool[L.off + pos] == b) nb |= 1ull << i;
        else if (L.len == pos) complete = true;
    }
    if (nb) {
        f->bits = nb;
        f->count++;
        return R_OK;
    }
    return complete ? R_PASS : R_REJECT;
}

static bool lit_complete(const struct g4_grammar *g, const struct gframe *f) {
    uint64_t bits = f->bits;
    for (int i = 0; bits; i++, bits >>= 1)
        if ((bits & 1) && g->lits[f->a + i].len == f->count) return true;
    return false;
}

static bool num_in_bounds(const struct gnode *nd, const struct gframe *f) {
    int e = (f->u8lo ? -f->exp : f->exp) - f->fdig;
    double v = e >= 0 ? f->num * pow(10.0, e) : f->num / pow(10.0, -e);
    if (!isfinite(v)) return false;
    if (!nd->has_min && !nd->has_max) return true;
    if (f->sub) v = -v;
    if (nd->has_min && (nd->excl_min ? !(v > nd->minimum) : !(v >= nd->minimum))) return false;
    if (nd->has_max && (nd->excl_max ? !(v < nd->maximum) : !(v <= nd->maximum))) return false;
    return true;
}

static bool num_can_end(const struct g4_grammar *g, const struct gframe *f) {
    int p = f->phase;
    return (p == N_ZERO || p == N_INT || p == N_FRAC || p == N_EXP) && num_in_bounds(&g->nodes[f->node], f);
}

/* Liveness: can some number in the magnitude range [lo, hi] (hi excluded
 * when hi_open) with the frame's sign meet the bounds? Numbers that cannot
 * are refused at their first hopeless digit, so the mask never leads into
 * a dead end. */
static bool mag_ok(const struct gnode *nd, bool neg, double lo, double hi, bool hi_open) {
    double vlo = neg ? -hi : lo, vhi = neg ? -lo : hi; /* the open end is vhi (pos) or vlo (neg) */
    bool lo_open = neg && hi_open, up_open = !neg && hi_open;
    if (nd->has_min) {
        if (up_open || nd->excl_min ? !(vhi > nd->minimum) : !(vhi >= nd->minimum)) return false;
    }
    if (nd->has_max) {
        if (lo_open || nd->excl_max ? !(vlo < nd->maximum) : !(vlo <= nd->maximum)) return false;
    }
    return true;
}

static bool num_viable(const struct gnode *nd, const struct gframe *f, bool int_only) {
    if (!nd->has_min && !nd->has_max) return true;
    bool neg = f->sub != 0;
    double m = f->num;
    switch (f->phase) {
    case N_ZERO:
        return mag_ok(nd, neg, 0, int_only ? 0 : 1, !int_only);
    case N_DOT:
        return mag_ok(nd, neg, m, m + 1, true);
    case N_FRAC: {
        if (f->fdig >= G4_GRAMMAR_MAX_FRAC_DIGITS) return num_in_bounds(nd, f); /* no digit may follow */
        double scale = pow(10.0, -f->fdig);
        return mag_ok(nd, neg, m * scale, (m + 1) * scale, true);
    }
    default: /* N_INT: more digits (up to the cap) scale m by 10^k, a fraction adds [0, 1) */
        for (int k = 0; k <= G4_GRAMMAR_MAX_INT_DIGITS - (int)f->count; k++) {
            double p = pow(10.0, k), a = m * p, b = int_only ? (m + 1) * p - 1 : (m + 1) * p;
            if (mag_ok(nd, neg, a, b, !int_only)) return true;
            if (nd->has_max && !neg && a > nd->maximum) break;
            if (nd->has_min && neg && -a < nd->minimum) break;
        }
        return false;
    }
}

/* f->sub: negative sign; f->u8lo: negative exponent; f->count: integer
 * digits; f->b: exponent digits. Numbers of a node with bounds are written
 * without exponent (liveness is decidable without it); magnitudes stay below
 * 1e300 so every accepted number parses as a double. Digit counts are capped
 * (grammar.h), so no number runs on forever ("0.3333..." or "1e0000..."). */
static int num_byte(const struct g4_grammar *g, struct gframe *f, uint8_t b) {
    const struct gnode *nd = &g->nodes[f->node];
    bool int_only = !(nd->types & GT_NUM);
    bool bounded = nd->has_min || nd->has_max;
    bool digit = b >= '0' && b <= '9';
    int d = b - '0';
    switch (f->phase) {
    case N_START:
        if (b == '-') {
            if (nd->has_min && (nd->excl_min ? nd->minimum >= 0 : nd->minimum > 0)) return R_REJECT;
            if (nd->has_min && int_only && nd->minimum > -1) return R_REJECT; /* only "-0" left */
            f->sub = 1;
            f->phase = N_MINUS;
            return R_OK;
        }
        /* fall through */
    case N_MINUS:
        if (!digit) return R_REJECT;
        f->phase = d == 0 ? N_ZERO : N_INT;
        f->num = d;
        f->count = 1;
        return num_viable(nd, f, int_only) ? R_OK : R_REJECT;
    case N_INT:
        if (digit) {
            if (f->count >= G4_GRAMMAR_MAX_INT_DIGITS) return R_REJECT;
            f->count++;
            f->num = f->num * 10 + d;
            return num_viable(nd, f, int_only) ? R_OK : R_REJECT;
        }
        /* fall through */
    case N_ZERO:
        if (!int_only && b == '.') {
            f->phase = N_DOT;
            return num_viable(nd, f, int_only) ? R_OK : R_REJECT;
        }
        if (!int_only && !bounded && (b == 'e' || b == 'E')) {
            f->phase = N_E;
            return R_OK;
        }
        return num_in_bounds(nd, f) ? R_PASS : R_REJECT;
    case N_DOT:
    case N_FRAC:
        if (digit) {
            if (f->fdig >= G4_GRAMMAR_MAX_FRAC_DIGITS) return R_REJECT;
            f->num = f->num * 10 + d;
            f->fdig++;
            f->phase = N_FRAC;
            if (f->num > 1e300) return R_REJECT;
            return num_viable(nd, f, int_only) ? R_OK : R_REJECT;
        }
        if (f->phase == N_DOT) return R_REJECT;
        if (!bounded && (b == 'e' || b == 'E')) {
            f->phase = N_E;
            return R_OK;
        }
        return num_in_bounds(nd, f) ? R_PASS : R_REJECT;
    case N_E:
        if (b == '+' || b == '-') {
            f->u8lo = b == '-';
            f->phase = N_ESIGN;
            return R_OK;
        }
        /* fall through */
    case N_ESIGN:
        if (!digit) return R_REJECT;
        if (!f->u8lo && log10(f->num > 0 ? f->num : 1) + d - f->fdig > 300) return R_REJECT;
        f->exp = (int16_t)d;
        f->b = 1;
        f->phase = N_EXP;
        return R_OK;
    case N_EXP:
        if (digit) {
            if (f->b >= G4_GRAMMAR_MAX_EXP_DIGITS) return R_REJECT;
            f->b++;
            int e = f->exp * 10 + d;
            /* keep |value| < 1e300: log10(mantissa) + exponent - fraction digits */
            if (!f->u8lo && log10(f->num > 0 ? f->num : 1) + e - f->fdig > 300) return R_REJECT;
            f->exp = (int16_t)e;
            return R_OK;
        }
        return num_in_bounds(nd, f) ? R_PASS : R_REJECT;
    }
    return R_REJECT;
}

static int begin_value(const struct g4_grammar *g, struct gthread *t, int32_t node, uint8_t b);

/* ---- strings and keys -------------------------------------------------------- */

static void child_done(const struct g4_grammar *g, struct gframe *parent, const struct gframe *child);

static void pop_done(const struct g4_grammar *g, struct gthread *t) {
    t->depth--;
    child_done(g, &t->f[t->depth - 1], &t->f[t->depth]);
}

/* Key candidate filtering on a raw key byte (JSON: escaped form). */
static int key_filter(const struct g4_grammar *g, struct gframe *f, uint8_t b) {
    const struct gnode *nd = &g->nodes[f->node];
    uint64_t nb = 0, bits = f->bits;
    uint32_t pos = f->count++;
    for (int i = 0; bits; i++, bits >>= 1) {
        if (!(bits & 1)) continue;
        struct gstr name = g->props[nd->prop_first + i].name;
        if (name.len > pos && (uint8_t)g->pool[name.off + pos] == b) nb |= 1ull << i;
    }
    f->bits = nb;
    /* an undeclared key is capped; a declared name is always writable */
    return nb || (nd->addl >= 0 && pos < G4_GRAMMAR_MAX_KEY_BYTES) ? R_OK : R_REJECT;
}

static int key_close(const struct g4_grammar *g, struct gthread *t, struct gframe *f) {
    const struct gnode *nd = &g->nodes[f->node];
    const struct gframe *obj = &t->f[t->depth - 2];
    f->a = -1;
    uint64_t bits = f->bits;
    for (int i = 0; bits; i++, bits >>= 1)
        if ((bits & 1) && g->props[nd->prop_first + i].name.len == f->count) f->a = i;
    if (f->a >= 0 && (obj->bits >> f->a) & 1) return R_REJECT; /* duplicate key */
    if (f->a < 0 && nd->addl < 0) return R_REJECT;
    pop_done(g, t);
    return R_OK;
}

static int str_byte(const struct g4_grammar *g, struct gthread *t, struct gframe *f, uint8_t b) {
    bool gemma = g->flavor == FLAVOR_GEMMA;
    const struct gnode *nd = &g->nodes[f->node];
    bool is_key = f->kind == F_KEY;
    if (f->sub >= SUB_U8) {
        if (b < f->u8lo || b > f->u8hi) return R_REJECT;
        f->u8lo = 0x80;
        f->u8hi = 0xBF;
        f->sub = f->sub == SUB_U8 + 1 ? 0 : (uint8_t)(f->sub - 1);
        return is_key ? key_filter(g, f, b) : R_OK;
    }
    if (f->sub == SUB_ESC) {
        if (b == 'u') {
            f->sub = SUB_HEX0;
            f->a = 0;
        } else if (!f->fdig && b && strchr("\"\\/bfnrt", b)) {
            f->sub = 0;
        } else {
            return R_REJECT;
        }
        return is_key ? key_filter(g, f, b) : R_OK;
    }
    if (f->sub == SUB_NEED_BS || f->sub == SUB_NEED_U) { /* a high surrogate wants "\\uDC00".."\\uDFFF" */
        if (b != (f->sub == SUB_NEED_BS ? '\\' : 'u')) return R_REJECT;
        f->sub = f->sub == SUB_NEED_BS ? SUB_NEED_U : SUB_HEX0;
        f->a = 0;
        return is_key ? key_filter(g, f, b) : R_OK;
    }
    if (f->sub >= SUB_HEX0 && f->sub <= SUB_HEX0 + 3) {
        int h = (b >= '0' && b <= '9') ? b - '0' : (b >= 'a' && b <= 'f') ? b - 'a' + 10
                : (b >= 'A' && b <= 'F') ? b - 'A' + 10 : -1;
        if (h < 0) return R_REJECT;
        f->a = f->a * 16 + h;
        if (f->sub < SUB_HEX0 + 3) {
            f->sub++;
        } else if (f->fdig) { /* second half of a surrogate pair */
            if (f->a < 0xDC00 || f->a > 0xDFFF) return R_REJECT;
            f->fdig = 0;
            f->sub = 0;
        } else if (f->a >= 0xD800 && f->a <= 0xDBFF) {
            f->fdig = 1;
            f->sub = SUB_NEED_BS;
        } else if (f->a >= 0xDC00 && f->a <= 0xDFFF) {
            return R_REJECT; /* lone low surrogate */
        } else {
            f->sub = 0;
        }
        return is_key ? key_filter(g, f, b) : R_OK;
    }
    if (b == (gemma ? G4_SYM_QUOTE : '"')) {
        if (is_key) return key_close(g, t, f);
        if (f->count < nd->min_len) return R_REJECT;
        pop_done(g, t);
        return R_OK;
    }
    if (!is_key && f->count >= gnode_str_max(g, nd)) return R_REJECT;
    if (!gemma && b == '\\') {
        f->sub = SUB_ESC;
    } else if (b < 0x20 && (!gemma || b == 0)) {
        return R_REJECT;
    } else {
        int k = utf8_lead(f, b);
        if (k < 0) return R_REJECT;
        if (k) f->sub = (uint8_t)(SUB_U8 + k);
    }
    if (is_key) return key_filter(g, f, b);
    f->count++;
    return R_OK;
}

/* Gemma bare key: bytes up to ':'. f->node is the object node. */
static int barekey_byte(const struct g4_grammar *g, struct gthread *t, struct gframe *f, uint8_t b) {
    if (f->sub >= SUB_U8) {
        if (b < f->u8lo || b > f->u8hi) return R_REJECT;
        f->u8lo = 0x80;
        f->u8hi = 0xBF;
        f->sub = f->sub == SUB_U8 + 1 ? 0 : (uint8_t)(f->sub - 1);
        return key_filter(g, f, b);
    }
    if (b == ':' && f->count > 0) return key_close(g, t, f);
    if (b <= ' ' || strchr(":{}[],\"", b) || f->count >= 128) return R_REJECT;
    int k = utf8_lead(f, b);
    if (k < 0) return R_REJECT;
    if (k) f->sub = (uint8_t)(SUB_U8 + k);
    return key_filter(g, f, b);
}

/* ---- containers ---------------------------------------------------------------- */

static void child_done(const struct g4_grammar *g, struct gframe *p, const struct gframe *child) {
    p->ws = 0;
    switch (p->kind) {
    case F_OBJ:
        if (p->phase == O_INKEY) {
            p->a = child->a;
            if (child->a >= 0) p->bits |= 1ull << child->a;
            p->phase = child->kind == F_BAREKEY ? O_VALWS : O_COLON;
        } else {
            p->phase = O_AFTER;
        }
        break;
    case F_ARR:
        p->count++;
        p->phase = A_AFTER;
        break;
    case F_ROOT:
        p->phase = R_END;
        break;
    case F_TC:
        p->phase = TC_AFTER;
        break;
    default:
        break;
    }
    (void)g;
}

static bool required_done(const struct gnode *nd, const struct gframe *f) {
    return (nd->required & ~f->bits) == 0;
}

/* More keys are possible: additional ones, or declared ones not seen yet. */
static bool more_keys(const struct gnode *nd, const struct gframe *f) {
    return nd->addl >= 0 || (low_bits(nd->n_props) & ~f->bits) != 0;
}

static int start_key(const struct g4_grammar *g, struct gthread *t, struct gframe *f, uint8_t b) {
    const struct gnode *nd = &g->nodes[f->node];
    bool gemma = g->flavor == FLAVOR_GEMMA;
    if (!gemma && b != '"') return R_REJECT;
    if (gemma && (b == G4_SYM_QUOTE || b == '"')) return R_REJECT;
    if (!more_keys(nd, f)) return R_REJECT; /* no dead end after '{' or ',' */
    uint64_t seen = f->bits;
    f->phase = O_INKEY;
    struct gframe *k = push(t, gemma ? F_BAREKEY : F_KEY, f->node);
    if (!k) return R_REJECT;
    k->bits = low_bits(nd->n_props);
    if (nd->addl < 0) k->bits &= ~seen; /* no dead ends: seen names are not offered again */
    if (gemma) return barekey_byte(g, t, k, b);
    return R_OK;
}

static int obj_byte(const struct g4_grammar *g, struct gthread *t, struct gframe *f, uint8_t b) {
    const struct gnode *nd = &g->nodes[f->node];
    if (ws_byte(b) && f->phase != O_INKEY && f->phase != O_INVAL) return take_ws(g, f);
    f->ws = 0;
    switch (f->phase) {
    case O_START:
    case O_AFTER:
        if (b == '}') {
            if (!required_done(nd, f)) return R_REJECT;
            pop_done(g, t);
            return R_OK;
        }
        if (f->phase == O_AFTER) {
            if (b != ',' || !more_keys(nd, f)) return R_REJECT;
            f->phase = O_KEYWS;
            return R_OK;
        }
        return start_key(g, t, f, b);
    case O_KEYWS:
        return start_key(g, t, f, b);
    case O_COLON:
        if (b != ':') return R_REJECT;
        f->phase = O_VALWS;
        return R_OK;
    case O_VALWS: {
        int32_t vn = f->a >= 0 ? g->props[nd->prop_first + f->a].node : nd->addl;
        f->phase = O_INVAL;
        return begin_value(g, t, vn, b);
    }
    default:
        return R_REJECT;
    }
}

static int arr_byte(const struct g4_grammar *g, struct gthread *t, struct gframe *f, uint8_t b) {
    const struct gnode *nd = &g->nodes[f->node];
    if (ws_byte(b)) return take_ws(g, f);
    f->ws = 0;
    switch (f->phase) {
    case A_START:
    case A_AFTER:
        if (b == ']') {
            if (f->count < nd->min_items) return R_REJECT;
            pop_done(g, t);
            return R_OK;
        }
        if (f->phase == A_AFTER) {
            if (b != ',' || f->count >= nd->max_items) return R_REJECT;
            f->phase = A_VALWS;
            return R_OK;
        }
        /* fall through */
    case A_VALWS:
        if (f->count >= nd->max_items) return R_REJECT;
        f->phase = A_INVAL;
        return begin_value(g, t, nd->items, b);
    default:
        return R_REJECT;
    }
}

static int begin_value(const struct g4_grammar *g, struct gthread *t, int32_t node, uint8_t b) {
    const struct gnode *nd = &g->nodes[node];
    struct gframe *f;
    if (nd->n_any) return push(t, F_FORK, node) ? R_FORK : R_REJECT;
    if (nd->has_enum) {
        if (!(f = push(t, F_LIT, node))) return R_REJECT;
        f->a = nd->lit_first;
        f->bits = low_bits(nd->n_lits);
        return lit_byte(g, f, b) == R_OK ? R_OK : R_REJECT;
    }
    bool gemma = g->flavor == FLAVOR_GEMMA;
    if (b == '{' && (nd->types & GT_OBJ)) return push(t, F_OBJ, node) ? R_OK : R_REJECT;
    if (b == '[' && (nd->types & GT_ARR)) return push(t, F_ARR, node) ? R_OK : R_REJECT;
    if (b == (gemma ? G4_SYM_QUOTE : '"') && (nd->types & GT_STR)) return push(t, F_STR, node) ? R_OK : R_REJECT;
    if ((b == '-' || (b >= '0' && b <= '9')) && (nd->types & (GT_NUM | GT_INT))) {
        if (!(f = push(t, F_NUM, node))) return R_REJECT;
        return num_byte(g, f, b) == R_OK ? R_OK : R_REJECT;
    }
    bool null_start = b == 'n' || (gemma && b == 'N');
    if (((b == 't' || b == 'f') && (nd->types & GT_BOOL)) || (null_start && (nd->types & GT_NULL))) {
        if (!(f = push(t, F_LIT, node))) return R_REJECT;
        f->a = null_start ? LIT_NULL_FIRST : LIT_BOOL_FIRST;
        f->bits = null_start ? (gemma ? 3 : 1) : 3;
        return lit_byte(g, f, b) == R_OK ? R_OK : R_REJECT;
    }
    return R_REJECT;
}

/* ---- top-level frames ------------------------------------------------------------- */

static int root_byte(const struct g4_grammar *g, struct gthread *t, struct gframe *f, uint8_t b) {
    if (ws_byte(b) && f->phase != R_INVAL) return take_ws(g, f);
    if (f->phase != R_START) return R_REJECT;
    f->ws = 0;
    f->phase = R_INVAL;
    return begin_value(g, t, g->root, b);
}

#define TC_THOUGHT_DONE 1

static int tc_byte(const struct g4_grammar *g, struct gthread *t, struct gframe *f, uint8_t b) {
    switch (f->phase) {
    case TC_START:
    case TC_DONE:
    case TC_AFTER:
        if (ws_byte(b)) return take_ws(g, f);
        f->ws = 0;
        if (f->phase == TC_AFTER) {
            if (b != G4_SYM_CALL_CLOSE) return R_REJECT;
            f->phase = TC_DONE;
            f->count = 1;
            return R_OK;
        }
        if (f->phase == TC_START && b == G4_SYM_CHAN_OPEN && g->allow_thought && !(f->a & TC_THOUGHT_DONE)) {
            f->phase = TC_THOUGHT;
            return R_OK;
        }
        if (b != G4_SYM_CALL_OPEN || (f->phase == TC_DONE && !g->parallel)) return R_REJECT;
        f->phase = TC_NAME;
        f->a |= TC_THOUGHT_DONE;
        f->bits = low_bits(g->n_fns);
        f->count = 0;
        return R_OK;
    case TC_THOUGHT:
        if (f->sub >= SUB_U8) {
            if (b < f->u8lo || b > f->u8hi) return R_REJECT;
            f->u8lo = 0x80;
            f->u8hi = 0xBF;
            f->sub = f->sub == SUB_U8 + 1 ? 0 : (uint8_t)(f->sub - 1);
            return R_OK;
        }
        if (b == G4_SYM_CHAN_CLOSE) {
            f->phase = TC_START;
            f->a |= TC_THOUGHT_DONE;
            return R_OK;
        }
        if (b == 0) return R_REJECT;
        {
            int k = utf8_lead(f, b);
            if (k < 0) return R_REJECT;
            if (k) f->sub = (uint8_t)(SUB_U8 + k);
        }
        return R_OK;
    case TC_NAME: {
        struct gframe tmp = *f;
        tmp.a = g->fn_first;
        int r = lit_byte(g, &tmp, b);
        if (r == R_OK) {
            f->bits = tmp.bits;
            f->count = tmp.count;
            return R_OK;
        }
        if (r == R_REJECT) return R_REJECT;
        int fn = -1;
        uint64_t bits = f->bits;
        for (int i = 0; bits; i++, bits >>= 1)
            if ((bits & 1) && g->lits[g->fn_first + i].len == f->count) fn = i;
        f->b = fn;
        f->phase = TC_INARGS;
        return begin_value(g, t, g->fn_nodes[fn], b);
    }
    default:
        return R_REJECT;
    }
}

/* ---- threads and states ------------------------------------------------------------ */

static int thread_step(const struct g4_grammar *g, struct gthread *t, uint8_t b) {
    for (;;) {
        if (t->depth == 0) return R_REJECT;
        struct gframe *f = &t->f[t->depth - 1];
        int r;
        switch (f->kind) {
        case F_LIT: r = lit_byte(g, f, b); break;
        case F_NUM: r = num_byte(g, f, b); break;
        case F_STR: case F_KEY: r = str_byte(g, t, f, b); break;
        case F_BAREKEY: r = barekey_byte(g, t, f, b); break;
        case F_OBJ: r = obj_byte(g, t, f, b); break;
        case F_ARR: r = arr_byte(g, t, f, b); break;
        case F_ROOT: r = root_byte(g, t, f, b); break;
        case F_TC: r = tc_byte(g, t, f, b); break;
        default: return R_REJECT;
        }
        if (r != R_PASS) return r;
        if (t->depth < 2) return R_REJECT;
        pop_done(g, t); /* the completed number/literal hands b to its parent */
    }
}

static void thread_copy(struct gthread *dst, const struct gthread *src) {
    dst->depth = src->depth;
    memcpy(dst->f, src->f, (size_t)src->depth * sizeof src->f[0]);
}

static void expand(const struct g4_grammar *g, struct g4_grammar_state *s, int idx, uint8_t b, uint8_t *alive) {
    struct gthread *t = &s->t[idx];
    int32_t node = t->f[t->depth - 1].node;
    t->depth--; /* drop the FORK frame */
    const struct gnode *nd = &g->nodes[node];
    int slots[G4_GRAMMAR_MAX_THREADS], ns = 0;
    slots[ns++] = idx;
    for (int k = 1; k < nd->n_any && s->n_threads < G4_GRAMMAR_MAX_THREADS; k++) {
        int j = s->n_threads++;
        thread_copy(&s->t[j], t);
        slots[ns++] = j;
    }
    for (int k = 0; k < ns; k++) {
        int j = slots[k];
        int r = begin_value(g, &s->t[j], g->alts[nd->any_first + k], b);
        alive[j] = r != R_REJECT;
        if (r == R_FORK) expand(g, s, j, b, alive);
    }
}

static bool thread_eq(const struct gthread *a, const struct gthread *b) {
    return a->depth == b->depth && memcmp(a->f, b->f, (size_t)a->depth * sizeof a->f[0]) == 0;
}

static bool state_byte(struct g4_grammar_state *s, uint8_t b) {
    const struct g4_grammar *g = s->g;
    uint8_t alive[G4_GRAMMAR_MAX_THREADS];
    int n0 = s->n_threads;
    for (int i = 0; i < n0; i++) {
        int r = thread_step(g, &s->t[i], b);
        alive[i] = r != R_REJECT;
        if (r == R_FORK) expand(g, s, i, b, alive);
    }
    int n = 0;
    for (int j = 0; j < s->n_threads; j++) {
        if (!alive[j]) continue;
        bool dup = false;
        for (int k = 0; k < n && !dup; k++) dup = thread_eq(&s->t[k], &s->t[j]);
        if (dup) continue;
        if (j != n) thread_copy(&s->t[n], &s->t[j]);
        n++;
    }
    s->n_threads = n;
    if (!n) s->dead = true;
    return n > 0;
}

bool g4_grammar_accept_bytes(struct g4_grammar_state *s, const void *bytes, size_t n) {
    if (!s || s->dead) return false;
    const uint8_t *p = bytes;
    for (size_t i = 0; i < n; i++)
        if (!state_byte(s, p[i])) return false;
    return true;
}

static bool thread_complete(const struct g4_grammar *g, const struct gthread *t) {
    const struct gframe *f0 = &t->f[0];
    if (t->depth == 1) return f0->kind == F_ROOT ? f0->phase == R_END : f0->phase == TC_DONE;
    if (t->depth == 2 && f0->kind == F_ROOT) {
        const struct gframe *f = &t->f[1];
        if (f->kind == F_NUM) return num_can_end(g, f);
        if (f->kind == F_LIT) return lit_complete(g, f);
    }
    return false;
}

bool g4_grammar_is_complete(const struct g4_grammar_state *s) {
    if (!s || s->dead) return false;
    for (int i = 0; i < s->n_threads; i++)
        if (thread_complete(s->g, &s->t[i])) return true;
    return false;
}

bool g4_grammar_is_dead(const struct g4_grammar_state *s) { return !s || s->dead; }

void g4_grammar_state_reset(struct g4_grammar_state *s) {
    s->dead = false;
    s->n_threads = 1;
    s->t[0].depth = 0;
    push(&s->t[0], s->g->tools ? F_TC : F_ROOT, s->g->root);
}

g4_status g4_grammar_state_new(const struct g4_grammar *g, struct g4_grammar_state **out, g4_error *err) {
    if (!g || !out) return g4_fail(err, G4_ERR_INVALID_ARG, "grammar: NULL argument");
    struct g4_grammar_state *s = malloc(sizeof *s);
    if (!s) return g4_fail(err, G4_ERR_NOMEM, "grammar: out of memory");
    s->g = g;
    g4_grammar_state_reset(s);
    *out = s;
    return G4_OK;
}

void g4_grammar_state_free(struct g4_grammar_state *s) { free(s); }

void g4_grammar_state_copy(struct g4_grammar_state *dst, const struct g4_grammar_state *src) {
    dst->g = src->g;
    dst->dead = src->dead;
    dst->n_threads = src->n_threads;
    for (int i = 0; i < src->n_threads; i++) thread_copy(&dst->t[i], &src->t[i]);
}

size_t g4_grammar_text_to_symbols(const char *text, size_t n, char *out) {
    static const struct {
        const char *s;
        uint8_t sym;
    } map[] = {{"<|\"|>", G4_SYM_QUOTE},          {"<|tool_call>", G4_SYM_CALL_OPEN},
               {"<tool_call|>", G4_SYM_CALL_CLOSE}, {"<|channel>", G4_SYM_CHAN_OPEN},
               {"<channel|>", G4_SYM_CHAN_CLOSE}};
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        bool hit = false;
        for (size_t k = 0; k < G4_ARRAY_LEN(map) && !hit; k++) {
            size_t l = strlen(map[k].s);
            if (i + l <= n && memcmp(text + i, map[k].s, l) == 0) {
                out[o++] = (char)map[k].sym;
                i += l;
                hit = true;
            }
        }
        if (!hit) out[o++] = text[i++];
    }
    return o;
}
