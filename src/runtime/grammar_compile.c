/* grammar_compile.c — JSON schema (and OpenAI tools) -> grammar node table.
 * Supported: type (string or list), properties, required,
 * additionalProperties (bool or schema), items (schema), minItems, maxItems,
 * enum, const, anyOf, oneOf (compiled as anyOf), allOf with one element,
 * $ref to local "#/..." pointers (recursion allowed), minLength, maxLength,
 * minimum, maximum, exclusiveMinimum, exclusiveMaximum (number or draft-4
 * bool). Annotations (title, description, default, examples, format, ...) are
 * ignored as jsonschema does by default. Everything else is reported by name
 * and path. Errors never abort: they fill g4_error. */
#include "runtime/grammar_impl.h"

#include "core/strbuf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cctx {
    struct g4_grammar *g;
    const json_t *doc; /* root of "#/..." references */
    g4_error *err;
    g4_status st;
    bool ignore;
    char *unsup;
    size_t cap, n;
    const json_t **memo_key;
    int32_t *memo_val;
    int n_memo, cap_memo;
    int depth;
    bool closed; /* absent additionalProperties = false */
};

static bool grow(struct cctx *c, void **p, int32_t *cap, int32_t need, size_t elem) {
    if (need <= *cap) return true;
    int32_t nc = *cap ? *cap : 16;
    while (nc < need) {
        if (nc > (1 << 28)) {
            c->st = g4_fail(c->err, G4_ERR_NOMEM, "grammar: schema too large");
            return false;
        }
        nc *= 2;
    }
    void *q = realloc(*p, (size_t)nc * elem);
    if (!q) {
        c->st = g4_fail(c->err, G4_ERR_NOMEM, "grammar: out of memory");
        return false;
    }
    *p = q;
    *cap = nc;
    return true;
}

static int32_t add_node(struct cctx *c) {
    struct g4_grammar *g = c->g;
    if (!grow(c, (void **)&g->nodes, &g->cap_nodes, g->n_nodes + 1, sizeof *g->nodes)) return -1;
    struct gnode *nd = &g->nodes[g->n_nodes];
    memset(nd, 0, sizeof *nd);
    nd->types = GT_ALL;
    nd->addl = NODE_ANY;
    nd->items = NODE_ANY;
    nd->max_items = UINT32_MAX;
    nd->max_len = UINT32_MAX;
    return g->n_nodes++;
}

static bool pool_add(struct cctx *c, const char *s, size_t n, struct gstr *out) {
    struct g4_grammar *g = c->g;
    if (n > (1u << 24) || g->n_pool > (1u << 30)) {
        c->st = g4_fail(c->err, G4_ERR_RANGE, "grammar: string too long");
        return false;
    }
    int32_t cap = (int32_t)g->cap_pool;
    if (!grow(c, (void **)&g->pool, &cap, (int32_t)(g->n_pool + n + 1), 1)) return false;
    g->cap_pool = (uint32_t)cap;
    memcpy(g->pool + g->n_pool, s, n);
    g->pool[g->n_pool + n] = 0;
    out->off = g->n_pool;
    out->len = (uint32_t)n;
    g->n_pool += (uint32_t)n + 1;
    return true;
}

static int32_t add_lit(struct cctx *c, const char *s, size_t n) {
    struct g4_grammar *g = c->g;
    struct gstr str;
    if (!pool_add(c, s, n, &str)) return -1;
    if (!grow(c, (void **)&g->lits, &g->cap_lits, g->n_lits + 1, sizeof *g->lits)) return -1;
    g->lits[g->n_lits] = str;
    return g->n_lits++;
}

static void unsupported(struct cctx *c, const char *what, const char *path) {
    char item[300];
    snprintf(item, sizeof item, "%s at %s", what, path[0] ? path : "/");
    if (c->unsup && c->cap) {
        size_t len = strlen(item);
        if (c->n && c->n + 2 < c->cap) {
            memcpy(c->unsup + c->n, ", ", 2);
            c->n += 2;
        }
        size_t k = G4_MIN(len, c->cap - 1 - c->n);
        memcpy(c->unsup + c->n, item, k);
        c->n += k;
        c->unsup[c->n] = 0;
    }
    if (!c->ignore && c->st == G4_OK)
        c->st = g4_fail(c->err, G4_ERR_UNSUPPORTED, "grammar: unsupported JSON schema feature: %s", item);
}

/* ---- literals: JSON text or Gemma argument syntax -------------------------- */


static void sb_add(struct g4_strbuf *b, const char *s, size_t n) { g4_strbuf_put(b, s, n); }

#define DUMP_FLAGS (JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15))

static void json_text(struct g4_strbuf *b, const json_t *v) {
    char *s = json_dumps(v, DUMP_FLAGS);
    if (!s) {
        b->oom = true;
        return;
    }
    sb_add(b, s, strlen(s));
    free(s);
}

/* Gemma's rendering: bare keys, <|"|>-quoted raw strings, JSON scalars. */
static void gemma_text(struct g4_strbuf *b, const json_t *v) {
    static const char Q = (char)G4_SYM_QUOTE;
    if (json_is_string(v)) {
        sb_add(b, &Q, 1);
        sb_add(b, json_string_value(v), json_string_length(v));
        sb_add(b, &Q, 1);
    } else if (json_is_object(v)) {
        const char *k;
        json_t *x;
        bool first = true;
        sb_add(b, "{", 1);
        json_object_foreach((json_t *)v, k, x) {
            if (!first) sb_add(b, ",", 1);
            first = false;
            sb_add(b, k, strlen(k));
            sb_add(b, ":", 1);
            gemma_text(b, x);
        }
        sb_add(b, "}", 1);
    } else if (json_is_array(v)) {
        sb_add(b, "[", 1);
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i) sb_add(b, ",", 1);
            gemma_text(b, json_array_get(v, i));
        }
        sb_add(b, "]", 1);
    } else {
        json_text(b, v);
    }
}

static uint8_t type_of(const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT: return GT_OBJ;
    case JSON_ARRAY: return GT_ARR;
    case JSON_STRING: return GT_STR;
    case JSON_INTEGER: return GT_INT | GT_NUM;
    case JSON_REAL: return GT_NUM;
    case JSON_TRUE: case JSON_FALSE: return GT_BOOL;
    default: return GT_NULL;
    }
}

/* ---- keywords -------------------------------------------------------------- */

static const char *const ANNOTATIONS[] = {
    "title", "description", "default", "examples", "$schema", "$id", "$comment", "format", "deprecated",
    "readOnly", "writeOnly", "$defs", "definitions", "contentEncoding", "contentMediaType", "strict",
};
static const char *const KEYWORDS[] = {
    "type", "properties", "required", "additionalProperties", "items", "minItems", "maxItems", "enum", "const",
    "anyOf", "oneOf", "allOf", "$ref", "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum",
    "exclusiveMaximum",
};

static bool in_list(const char *k, const char *const *list, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(k, list[i]) == 0) return true;
    return false;
}

static int32_t compile(struct cctx *c, const json_t *s, const char *path);

static const json_t *resolve_ref(struct cctx *c, const char *ref, const char *path) {
    if (strncmp(ref, "#", 1) != 0) {
        unsupported(c, "$ref to a non-local document", path);
        return NULL;
    }
    const json_t *cur = c->doc;
    const char *p = ref + 1;
    while (*p == '/') {
        p++;
        char seg[256];
        size_t n = 0;
        while (*p && *p != '/' && n + 1 < sizeof seg) {
            if (p[0] == '~' && p[1] == '0') seg[n++] = '~', p += 2;
            else if (p[0] == '~' && p[1] == '1') seg[n++] = '/', p += 2;
            else seg[n++] = *p++;
        }
        seg[n] = 0;
        if (json_is_object(cur)) cur = json_object_get(cur, seg);
        else if (json_is_array(cur)) cur = json_array_get(cur, (size_t)strtoul(seg, NULL, 10));
        else cur = NULL;
        if (!cur) break;
    }
    if (!cur || *p) {
        if (c->st == G4_OK) c->st = g4_fail(c->err, G4_ERR_INVALID_ARG, "grammar: $ref %s at %s not found", ref, path);
        return NULL;
    }
    return cur;
}

static bool get_count(struct cctx *c, const json_t *v, const char *kw, const char *path, uint32_t *out) {
    if (!v) return true;
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        if (c->st == G4_OK)
            c->st = g4_fail(c->err, G4_ERR_INVALID_ARG, "grammar: %s at %s must be a non-negative integer", kw, path);
        return false;
    }
    json_int_t x = json_integer_value(v);
    *out = x > (json_int_t)UINT32_MAX - 1 ? UINT32_MAX - 1 : (uint32_t)x;
    return true;
}

static bool bare_key_ok(const char *k) {
    if (!*k) return false;
    for (const unsigned char *p = (const unsigned char *)k; *p; p++)
        if (*p <= ' ' || strchr(":{}[],\"", *p) || *p >= 0xF8) return false;
    return true;
}

static void memo_put(struct cctx *c, const json_t *s, int32_t idx) {
    if (c->n_memo == c->cap_memo) {
        int nc = c->cap_memo ? c->cap_memo * 2 : 16;
        const json_t **k = realloc(c->memo_key, (size_t)nc * sizeof *k);
        if (k) c->memo_key = k;
        int32_t *v = realloc(c->memo_val, (size_t)nc * sizeof *v);
        if (v) c->memo_val = v;
        if (!k || !v) {
            c->st = g4_fail(c->err, G4_ERR_NOMEM, "grammar: out of memory");
            return;
        }
        c->cap_memo = nc;
    }
    c->memo_key[c->n_memo] = s;
    c->memo_val[c->n_memo++] = idx;
}

static int32_t compile_enum(struct cctx *c, int32_t idx, const json_t *en, const json_t *cn, const char *path) {
    struct g4_grammar *g = c->g;
    uint8_t types = g->nodes[idx].types;
    int32_t first = g->n_lits, n = 0;
    size_t count = cn ? 1 : json_array_size(en);
    if (!cn && !json_is_array(en)) {
        c->st = g4_fail(c->err, G4_ERR_INVALID_ARG, "grammar: enum at %s is not an array", path);
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        const json_t *v = cn ? cn : json_array_get(en, i);
        if (!(type_of(v) & types)) continue; /* cannot validate: the type excludes it */
        if (n == MAX_LITS) {
            unsupported(c, "enum with more than 64 values", path);
            break;
        }
        struct g4_strbuf b = {0};
        if (g->flavor == FLAVOR_GEMMA) gemma_text(&b, v);
        else json_text(&b, v);
        if (b.oom) {
            free(b.p);
            c->st = g4_fail(c->err, G4_ERR_NOMEM, "grammar: out of memory");
            return -1;
        }
        int32_t li = add_lit(c, b.p, b.n);
        free(b.p);
        if (li < 0) return -1;
        n++;
    }
    g->nodes[idx].has_enum = true;
    g->nodes[idx].lit_first = first;
    g->nodes[idx].n_lits = n;
    return idx;
}

static int32_t compile_object(struct cctx *c, int32_t idx, const json_t *s, const char *path) {
    struct g4_grammar *g = c->g;
    const json_t *props = json_object_get(s, "properties");
    const json_t *req = json_object_get(s, "required");
    const json_t *addl = json_object_get(s, "additionalProperties");
    char sub[512];
    if (addl) {
        snprintf(sub, sizeof sub, "%s/additionalProperties", path);
        int32_t a = json_is_false(addl) ? -1 : compile(c, addl, sub);
        if (c->st) return -1;
        g->nodes[idx].addl = a;
    } else if (c->closed) {
        g->nodes[idx].addl = -1;
    }
    const char *names[MAX_PROPS];
    int32_t nodes[MAX_PROPS];
    int n = 0;
    if (props && !json_is_object(props)) {
        c->st = g4_fail(c->err, G4_ERR_INVALID_ARG, "grammar: properties at %s is not an object", path);
        return -1;
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)props, k, v) {
        if (n == MAX_PROPS) {
            unsupported(c, "more than 64 properties", path);
            break;
        }
        snprintf(sub, sizeof sub, "%s/properties/%s", path, k);
        if (g->flavor == FLAVOR_GEMMA && !bare_key_ok(k)) {
            unsupported(c, "property name not writable as a Gemma bare key", sub);
            continue;
        }
        int32_t ni = compile(c, v, sub);
        if (c->st) return -1;
        names[n] = k;
        nodes[n++] = ni;
    }
    uint64_t required = 0;
    for (size_t i = 0; i < json_array_size(req); i++) {
        const char *r = json_string_value(json_array_get(req, i));
        if (!r) continue;
        int j = 0;
        while (j < n && strcmp(names[j], r) != 0) j++;
        if (j == n) { /* required but not declared: an additional property that must appear */
            if (n == MAX_PROPS) {
                unsupported(c, "more than 64 properties", path);
                continue;
            }
            if (g->flavor == FLAVOR_GEMMA && !bare_key_ok(r)) continue;
            names[n] = r;
            nodes[n++] = g->nodes[idx].addl >= 0 ? g->nodes[idx].addl : NODE_NOTHING;
        }
        required |= 1ull << j;
    }
    int32_t first = g->n_props;
    for (int i = 0; i < n; i++) {
        struct gstr name;
        bool ok;
        if (g->flavor == FLAVOR_GEMMA) {
            ok = pool_add(c, names[i], strlen(names[i]), &name);
        } else {
            json_t *js = json_string(names[i]);
            char *d = js ? json_dumps(js, DUMP_FLAGS) : NULL;
            json_decref(js);
            ok = d && pool_add(c, d + 1, strlen(d) - 2, &name);
            if (!d) c->st = g4_fail(c->err, G4_ERR_NOMEM, "grammar: out of memory");
            free(d);
        }
        if (!ok) return -1;
        if (!grow(c, (void **)&g->props, &g->cap_props, g->n_props + 1, sizeof *g->props)) return -1;
        g->props[g->n_props].name = name;
        g->props[g->n_props++].node = nodes[i];
    }
    g->nodes[idx].prop_first = first;
    g->nodes[idx].n_props = n;
    g->nodes[idx].required = required;
    return idx;
}

static bool get_bound(struct cctx *c, const json_t *s, const char *kw, double *out) {
    const json_t *v = json_object_get(s, kw);
    if (!v || !json_is_number(v)) return false;
    *out = json_number_value(v);
    return true;
}

static int32_t compile(struct cctx *c, const json_t *s, const char *path) {
    struct g4_grammar *g = c->g;
    if (c->st) return -1;
    if (json_is_true(s)) return NODE_ANY;
    if (json_is_false(s)) return NODE_NOTHING;
    if (!json_is_object(s)) {
        c->st = g4_fail(c->err, G4_ERR_INVALID_ARG, "grammar: schema at %s is not an object or boolean",
                        path[0] ? path : "/");
        return -1;
    }
    for (int i = 0; i < c->n_memo; i++)
        if (c->memo_key[i] == s) return c->memo_val[i];
    if (c->depth >= 64) {
        c->st = g4_fail(c->err, G4_ERR_UNSUPPORTED, "grammar: schema nested deeper than 64 at %s", path);
        return -1;
    }
    c->depth++;
    int32_t result = -1;
    const char *k;
    json_t *v;
    int n_keywords = 0;
    json_object_foreach((json_t *)s, k, v) {
        if (in_list(k, ANNOTATIONS, G4_ARRAY_LEN(ANNOTATIONS))) continue;
        if (!in_list(k, KEYWORDS, G4_ARRAY_LEN(KEYWORDS))) {
            char sub[512];
            snprintf(sub, sizeof sub, "%s", path);
            unsupported(c, k, sub);
            continue;
        }
        n_keywords++;
    }
    if (c->st) goto out;
    char sub[512];
    const json_t *ref = json_object_get(s, "$ref");
    const json_t *any = json_object_get(s, "anyOf");
    if (!any) any = json_object_get(s, "oneOf");
    const json_t *all = json_object_get(s, "allOf");
    if (ref) {
        if (n_keywords > 1) unsupported(c, "$ref with sibling keywords", path);
        const json_t *t = json_is_string(ref) ? resolve_ref(c, json_string_value(ref), path) : NULL;
        if (c->st) goto out;
        if (!t) {
            result = NODE_ANY;
            goto out;
        }
        result = compile(c, t, json_string_value(ref) + 1);
        if (result >= 0) memo_put(c, s, result);
        goto out;
    }
    if (all) {
        if (n_keywords > 1 || json_array_size(all) != 1) unsupported(c, "allOf", path);
        if (json_array_size(all) >= 1 && n_keywords == 1) {
            snprintf(sub, sizeof sub, "%s/allOf/0", path);
            result = compile(c, json_array_get(all, 0), sub);
            goto out;
        }
        if (c->st) goto out;
    }
    int32_t idx = add_node(c);
    if (idx < 0) goto out;
    memo_put(c, s, idx);
    if (any) {
        if (json_object_get(s, "anyOf") && json_object_get(s, "oneOf")) unsupported(c, "anyOf with oneOf", path);
        if (n_keywords > 1 + (json_object_get(s, "anyOf") && json_object_get(s, "oneOf")))
            unsupported(c, "anyOf/oneOf with sibling keywords", path);
        if (!json_is_array(any) || json_array_size(any) == 0 || json_array_size(any) > G4_GRAMMAR_MAX_THREADS) {
            if (c->st == G4_OK)
                c->st = g4_fail(c->err, json_is_array(any) && json_array_size(any) ? G4_ERR_UNSUPPORTED
                                                                                   : G4_ERR_INVALID_ARG,
                                "grammar: anyOf at %s must be an array of 1..16 schemas", path);
            goto out;
        }
        if (c->st) goto out;
        int32_t alts[G4_GRAMMAR_MAX_THREADS];
        size_t na = json_array_size(any);
        for (size_t i = 0; i < na; i++) {
            snprintf(sub, sizeof sub, "%s/anyOf/%zu", path, i);
            alts[i] = compile(c, json_array_get(any, i), sub);
            if (c->st) goto out;
        }
        int32_t first = g->n_alts;
        if (!grow(c, (void **)&g->alts, &g->cap_alts, g->n_alts + (int32_t)na, sizeof *g->alts)) goto out;
        memcpy(g->alts + first, alts, na * sizeof *alts);
        g->n_alts += (int32_t)na;
        g->nodes[idx].types = 0;
        g->nodes[idx].any_first = first;
        g->nodes[idx].n_any = (int32_t)na;
        result = idx;
        goto out;
    }
    const json_t *type = json_object_get(s, "type");
    if (type) {
        uint8_t mask = 0;
        size_t nt = json_is_array(type) ? json_array_size(type) : 1;
        for (size_t i = 0; i < nt; i++) {
            const char *t = json_string_value(json_is_array(type) ? json_array_get(type, i) : type);
            uint8_t m = !t ? 0
                        : !strcmp(t, "object")  ? GT_OBJ
                        : !strcmp(t, "array")   ? GT_ARR
                        : !strcmp(t, "string")  ? GT_STR
                        : !strcmp(t, "number")  ? (GT_NUM | GT_INT)
                        : !strcmp(t, "integer") ? GT_INT
                        : !strcmp(t, "boolean") ? GT_BOOL
                        : !strcmp(t, "null")    ? GT_NULL
                                                : 0;
            if (!m) {
                c->st = g4_fail(c->err, G4_ERR_INVALID_ARG, "grammar: unknown type at %s", path[0] ? path : "/");
                goto out;
            }
            mask |= m;
        }
        g->nodes[idx].types = mask;
    }
    if (compile_object(c, idx, s, path) < 0) goto out;
    const json_t *items = json_object_get(s, "items");
    if (items) {
        if (json_is_array(items)) {
            unsupported(c, "items as an array (tuple)", path);
        } else {
            snprintf(sub, sizeof sub, "%s/items", path);
            int32_t it = compile(c, items, sub);
            if (c->st) goto out;
            g->nodes[idx].items = it;
        }
    }
    struct gnode *nd = &g->nodes[idx];
    uint32_t x;
    x = 0;
    if (!get_count(c, json_object_get(s, "minItems"), "minItems", path, &x)) goto out;
    nd->min_items = x;
    x = UINT32_MAX;
    if (!get_count(c, json_object_get(s, "maxItems"), "maxItems", path, &x)) goto out;
    nd->max_items = x;
    x = 0;
    if (!get_count(c, json_object_get(s, "minLength"), "minLength", path, &x)) goto out;
    nd->min_len = x;
    x = UINT32_MAX;
    if (!get_count(c, json_object_get(s, "maxLength"), "maxLength", path, &x)) goto out;
    nd->max_len = x;
    double b;
    if (get_bound(c, s, "minimum", &b)) nd->has_min = true, nd->minimum = b;
    if (get_bound(c, s, "maximum", &b)) nd->has_max = true, nd->maximum = b;
    const json_t *em = json_object_get(s, "exclusiveMinimum"), *ex = json_object_get(s, "exclusiveMaximum");
    if (json_is_true(em)) nd->excl_min = true;
    else if (get_bound(c, s, "exclusiveMinimum", &b) && (!nd->has_min || b >= nd->minimum))
        nd->has_min = true, nd->minimum = b, nd->excl_min = true;
    if (json_is_true(ex)) nd->excl_max = true;
    else if (get_bound(c, s, "exclusiveMaximum", &b) && (!nd->has_max || b <= nd->maximum))
        nd->has_max = true, nd->maximum = b, nd->excl_max = true;
    /* bounded numbers are written without an exponent, in at most 16 integer
     * digits: a bound that needs more leaves nothing to generate */
    if ((nd->types & (GT_NUM | GT_INT)) && ((nd->has_min && nd->minimum >= 1e16) || (nd->has_max && nd->maximum <= -1e16)))
        unsupported(c, "minimum or maximum beyond 16 integer digits", path);
    if (c->st) goto out;
    const json_t *en = json_object_get(s, "enum"), *cn = json_object_get(s, "const");
    if (en || cn) {
        if (compile_enum(c, idx, en, cn, path) < 0) goto out;
    }
    result = idx;
out:
    c->depth--;
    return c->st ? -1 : result;
}

/* ---- grammar objects ---------------------------------------------------------- */

static struct g4_grammar *grammar_new(int flavor, int max_ws, uint32_t max_string) {
    struct g4_grammar *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->flavor = flavor;
    g->max_ws = max_ws > 0 ? max_ws : 20;
    g->max_string = max_string > 0 ? max_string : G4_GRAMMAR_MAX_STRING;
    return g;
}

void g4_grammar_free(struct g4_grammar *g) {
    if (!g) return;
    free(g->nodes);
    free(g->alts);
    free(g->props);
    free(g->lits);
    free(g->pool);
    free(g->fn_nodes);
    free(g);
}

/* Common prefix: node 0 ANY, node 1 NOTHING, literals true/false/null/None. */
static bool grammar_base(struct cctx *c) {
    if (add_node(c) != NODE_ANY) return false;
    if (add_node(c) != NODE_NOTHING) return false;
    c->g->nodes[NODE_NOTHING].types = 0;
    return add_lit(c, "true", 4) == 0 && add_lit(c, "false", 5) == 1 && add_lit(c, "null", 4) == 2 &&
           add_lit(c, "None", 4) == 3;
}

static void cctx_done(struct cctx *c) {
    free(c->memo_key);
    free(c->memo_val);
}

g4_status g4_grammar_compile_json(const json_t *schema, const struct g4_grammar_opts *opts,
                                  struct g4_grammar **out, char *unsupported_out, size_t cap, g4_error *err) {
    if (!out) return g4_fail(err, G4_ERR_INVALID_ARG, "grammar: NULL argument");
    *out = NULL;
    if (unsupported_out && cap) unsupported_out[0] = 0;
    struct g4_grammar *g = grammar_new(FLAVOR_JSON, opts ? opts->max_ws : 0, opts ? opts->max_string : 0);
    if (!g) return g4_fail(err, G4_ERR_NOMEM, "grammar: out of memory");
    struct cctx c = {.g = g, .doc = schema, .err = err, .ignore = opts && opts->ignore_unsupported,
                     .unsup = unsupported_out, .cap = cap, .closed = opts && opts->closed_objects};
    if (!grammar_base(&c) && c.st == G4_OK) c.st = g4_fail(err, G4_ERR_NOMEM, "grammar: out of memory");
    if (c.st == G4_OK) {
        if (schema) {
            g->root = compile(&c, schema, "");
        } else { /* json_object mode: any object */
            g->root = add_node(&c);
            if (g->root >= 0) g->nodes[g->root].types = GT_OBJ;
        }
    }
    cctx_done(&c);
    if (c.st != G4_OK || g->root < 0) {
        g4_grammar_free(g);
        return c.st ? c.st : g4_fail(err, G4_ERR_INTERNAL, "grammar: compile failed");
    }
    *out = g;
    return G4_OK;
}

g4_status g4_grammar_compile_tools(const json_t *tools, const struct g4_grammar_tool_opts *opts,
                                   struct g4_grammar **out, char *unsupported_out, size_t cap, g4_error *err) {
    if (!out || !json_is_array(tools)) return g4_fail(err, G4_ERR_INVALID_ARG, "grammar: tools must be an array");
    *out = NULL;
    if (unsupported_out && cap) unsupported_out[0] = 0;
    struct g4_grammar *g = grammar_new(FLAVOR_GEMMA, opts ? opts->max_ws : 0, opts ? opts->max_string : 0);
    if (!g) return g4_fail(err, G4_ERR_NOMEM, "grammar: out of memory");
    g->tools = true;
    g->allow_thought = opts && opts->allow_thought;
    g->parallel = opts && opts->parallel;
    struct cctx c = {.g = g, .err = err, .ignore = opts && opts->ignore_unsupported, .unsup = unsupported_out,
                     .cap = cap, .closed = opts && opts->closed_objects};
    if (!grammar_base(&c) && c.st == G4_OK) c.st = g4_fail(err, G4_ERR_NOMEM, "grammar: out of memory");
    int32_t fn_nodes[MAX_LITS];
    const char *fn_names[MAX_LITS];
    int32_t n_fns = 0, fn_first = -1;
    json_t *empty = json_pack("{s:s}", "type", "object");
    for (size_t i = 0; c.st == G4_OK && i < json_array_size(tools); i++) {
        const json_t *t = json_array_get(tools, i);
        const json_t *f = json_object_get(t, "function");
        if (!f) f = t;
        const char *name = json_string_value(json_object_get(f, "name"));
        char path[300];
        snprintf(path, sizeof path, "tools[%zu]", i);
        if (!name || !*name || strlen(name) > 128) {
            c.st = g4_fail(err, G4_ERR_INVALID_ARG, "grammar: %s has no valid function name", path);
            break;
        }
        for (const char *p = name; *p; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                  *p == '_' || *p == '-' || *p == '.'))
                c.st = g4_fail(err, G4_ERR_INVALID_ARG, "grammar: %s: function name '%s' has characters "
                               "outside [A-Za-z0-9_.-]", path, name);
        if (c.st) break;
        if (opts && opts->only && strcmp(opts->only, name) != 0) continue;
        if (n_fns == MAX_LITS) {
            unsupported(&c, "more than 64 tools", path);
            break;
        }
        const json_t *params = json_object_get(f, "parameters");
        if (!params) params = empty;
        c.doc = params;
        c.n_memo = 0;
        snprintf(path, sizeof path, "tools[%zu].parameters", i);
        int32_t node = compile(&c, params, path);
        if (c.st) break;
        if (node == NODE_ANY) { /* "parameters": true */
            node = add_node(&c);
            if (node < 0) break;
            g->nodes[node].types = GT_OBJ;
        }
        if (g->nodes[node].n_any || !(g->nodes[node].types & GT_OBJ)) {
            unsupported(&c, "parameters that are not a plain object schema", path);
            if (c.st) break;
        }
        g->nodes[node].types = GT_OBJ;
        fn_names[n_fns] = name;
        fn_nodes[n_fns++] = node;
    }
    for (int32_t i = 0; c.st == G4_OK && i < n_fns; i++) { /* contiguous "call:NAME" literals */
        char lit[140];
        int ln = snprintf(lit, sizeof lit, "call:%s", fn_names[i]);
        int32_t li = add_lit(&c, lit, (size_t)ln);
        if (li >= 0 && fn_first < 0) fn_first = li;
    }
    json_decref(empty);
    if (c.st == G4_OK && n_fns == 0)
        c.st = g4_fail(err, G4_ERR_INVALID_ARG, opts && opts->only ? "grammar: tool_choice names '%s', which is "
                       "not among the tools" : "grammar: no tools%s", opts && opts->only ? opts->only : "");
    if (c.st == G4_OK) {
        g->fn_nodes = malloc((size_t)n_fns * sizeof *g->fn_nodes);
        if (!g->fn_nodes) c.st = g4_fail(err, G4_ERR_NOMEM, "grammar: out of memory");
        else memcpy(g->fn_nodes, fn_nodes, (size_t)n_fns * sizeof *fn_nodes);
        g->fn_first = fn_first;
        g->n_fns = n_fns;
    }
    cctx_done(&c);
    if (c.st != G4_OK) {
        g4_grammar_free(g);
        return c.st;
    }
    *out = g;
    return G4_OK;
}
