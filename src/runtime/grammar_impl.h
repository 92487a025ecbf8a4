/* grammar_impl.h — internal layout shared by grammar_compile.c (schema ->
 * node table), grammar.c (the matcher) and grammar_mask.c (token masks).
 * Node 0 is ANY (every JSON value); node 1 is NOTHING (the false schema). All
 * strings (property names, literals) live in one pool, referenced by offset,
 * so the compiled grammar is position-independent and immutable. */
#ifndef G4_RUNTIME_GRAMMAR_IMPL_H
#define G4_RUNTIME_GRAMMAR_IMPL_H

#include "runtime/grammar.h"

enum {
    GT_OBJ = 1, GT_ARR = 2, GT_STR = 4, GT_NUM = 8, GT_INT = 16, GT_BOOL = 32, GT_NULL = 64,
    GT_ALL = 127,
};

enum { FLAVOR_JSON = 0, FLAVOR_GEMMA = 1 };

#define NODE_ANY 0
#define NODE_NOTHING 1
#define MAX_PROPS 64
#define MAX_LITS 64

/* Built-in literal sets: lits[0..2) = true,false; lits[2] = null; lits[3] =
 * None (Gemma flavor only: the chat template renders None for null). */
#define LIT_BOOL_FIRST 0
#define LIT_NULL_FIRST 2

struct gnode {
    uint8_t types;     /* GT_* mask of accepted JSON types */
    bool has_enum;     /* value must be one of lits[lit_first .. +n_lits) */
    int32_t lit_first, n_lits;
    int32_t any_first, n_any; /* anyOf alternatives: alts[any_first ..] */
    int32_t prop_first, n_props;
    uint64_t required; /* bit i: props[prop_first+i] is required */
    int32_t addl;      /* additionalProperties node, or -1 when forbidden */
    int32_t items;     /* array item node */
    uint32_t min_items, max_items;
    uint32_t min_len, max_len; /* string length in code points */
    bool has_min, has_max, excl_min, excl_max;
    double minimum, maximum;
};

struct gstr {
    uint32_t off, len; /* in pool */
};

struct gprop {
    struct gstr name; /* JSON-escaped (JSON flavor) or raw (Gemma bare key) */
    int32_t node;
};

struct g4_grammar {
    int flavor;
    int max_ws;
    uint32_t max_string; /* string cap without a tighter maxLength (code points) */
    int root;            /* JSON mode: root node */
    bool tools;          /* tool-call mode */
    bool allow_thought, parallel;
    int32_t fn_first, n_fns; /* tool mode: lits[fn_first..] = "call:NAME", fn_nodes[] */
    int32_t *fn_nodes;
    struct gnode *nodes;
    int32_t n_nodes, cap_nodes;
    int32_t *alts;
    int32_t n_alts, cap_alts;
    struct gprop *props;
    int32_t n_props, cap_props;
    struct gstr *lits;
    int32_t n_lits, cap_lits;
    char *pool;
    uint32_t n_pool, cap_pool;
};

/* The longest string node nd accepts: its maxLength, or the grammar's cap
 * when that is tighter, but never below minLength (no dead ends). */
static inline uint32_t gnode_str_max(const struct g4_grammar *g, const struct gnode *nd) {
    if (nd->max_len <= g->max_string) return nd->max_len;
    return nd->min_len > g->max_string ? nd->min_len : g->max_string;
}

static inline const char *gstr_ptr(const struct g4_grammar *g, struct gstr s) { return g->pool + s.off; }

/* Frame kinds. */
enum { F_ROOT = 1, F_OBJ, F_ARR, F_STR, F_KEY, F_BAREKEY, F_NUM, F_LIT, F_FORK, F_TC };

struct gframe {
    int32_t node;
    uint8_t kind, phase, ws, sub; /* sub: string escape / UTF-8 sub-state */
    uint8_t u8lo, u8hi;           /* allowed range of the next UTF-8 continuation byte */
    int16_t fdig, exp;            /* number: fraction digits, exponent value */
    int32_t a, b;                 /* literal first/count, key result, TC function; number: exponent digits */
    uint32_t count;               /* items, code points, literal/key byte position; number: integer digits */
    uint64_t bits;                /* seen properties, literal/key candidates */
    double num;                   /* number mantissa digits */
};

struct gthread {
    int depth;
    struct gframe f[G4_GRAMMAR_MAX_DEPTH];
};

struct g4_grammar_state {
    const struct g4_grammar *g;
    int n_threads;
    bool dead;
    struct gthread t[G4_GRAMMAR_MAX_THREADS];
};

#endif
