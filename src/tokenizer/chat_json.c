/* chat_json.c — Python/Jinja value semantics over jansson values (see
 * chat_json.h). What the Gemma chat templates print goes through Python's
 * str(): floats use the shortest round-trip repr with Python's switch to
 * exponent form (decimal exponent < -4 or >= 16), containers use repr() with
 * Python's quoting and escaping rules. Unicode tables are approximated where
 * noted (str.isprintable for repr escapes, str.lower for dictsort keys);
 * the approximations only matter for non-ASCII text in dict keys or inside
 * printed containers. */
#include "tokenizer/chat_json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- predicates -------------------------------------------------------- */

bool g4_py_truthy(const json_t *v) {
    if (!v) return false;
    switch (json_typeof(v)) {
    case JSON_OBJECT: return json_object_size(v) > 0;
    case JSON_ARRAY: return json_array_size(v) > 0;
    case JSON_STRING: return json_string_length(v) > 0;
    case JSON_INTEGER: return json_integer_value(v) != 0;
    case JSON_REAL: return json_real_value(v) != 0.0;
    case JSON_TRUE: return true;
    default: return false;
    }
}

bool g4_py_is_sequence(const json_t *v) {
    return !v || json_is_string(v) || json_is_array(v) || json_is_object(v);
}

json_t *g4_py_getitem(const json_t *v, const char *key) {
    return json_is_object(v) ? json_object_get(v, key) : NULL;
}

bool g4_py_streq(const json_t *v, const char *s) {
    return json_is_string(v) && json_string_length(v) == strlen(s) && !memcmp(json_string_value(v), s, strlen(s));
}

/* ---- UTF-8 ------------------------------------------------------------- */

/* Decodes one code point at s[i] (i < n); returns its byte length (>= 1).
 * Invalid bytes decode as themselves (one byte) with *cp = 0xFFFD. */
static size_t utf8_next(const char *s, size_t n, size_t i, uint32_t *cp) {
    const unsigned char *u = (const unsigned char *)s + i;
    size_t left = n - i;
    if (u[0] < 0x80) {
        *cp = u[0];
        return 1;
    }
    size_t len = (u[0] & 0xE0) == 0xC0 ? 2 : (u[0] & 0xF0) == 0xE0 ? 3 : (u[0] & 0xF8) == 0xF0 ? 4 : 0;
    if (len == 0 || len > left) {
        *cp = 0xFFFD;
        return 1;
    }
    uint32_t c = u[0] & (0x7F >> len);
    for (size_t k = 1; k < len; k++) {
        if ((u[k] & 0xC0) != 0x80) {
            *cp = 0xFFFD;
            return 1;
        }
        c = (c << 6) | (u[k] & 0x3F);
    }
    *cp = c;
    return len;
}

static void utf8_put(struct g4_strbuf *b, uint32_t c) {
    char t[4];
    size_t n;
    if (c < 0x80) {
        t[0] = (char)c;
        n = 1;
    } else if (c < 0x800) {
        t[0] = (char)(0xC0 | (c >> 6));
        t[1] = (char)(0x80 | (c & 0x3F));
        n = 2;
    } else if (c < 0x10000) {
        t[0] = (char)(0xE0 | (c >> 12));
        t[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        t[2] = (char)(0x80 | (c & 0x3F));
        n = 3;
    } else {
        t[0] = (char)(0xF0 | (c >> 18));
        t[1] = (char)(0x80 | ((c >> 12) & 0x3F));
        t[2] = (char)(0x80 | ((c >> 6) & 0x3F));
        t[3] = (char)(0x80 | (c & 0x3F));
        n = 4;
    }
    g4_strbuf_put(b, t, n);
}

/* Python str.isspace() (Unicode White_Space plus the ASCII separators). */
static bool py_isspace(uint32_t c) {
    return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
           c == 0x3000;
}

/* Python str.isprintable() for non-ASCII code points, approximated: control
 * and format characters, separators, private use and noncharacters are
 * unprintable; unassigned code points are treated as printable. */
static bool py_isprintable(uint32_t c) {
    if (c < 0x20 || c == 0x7F) return false;
    if (c < 0x7F) return true;
    if (c <= 0xA0 || c == 0xAD) return false;
    if ((c >= 0x600 && c <= 0x605) || c == 0x61C || c == 0x6DD || c == 0x70F || c == 0x8E2 || c == 0x180E)
        return false;
    if (c == 0x1680 || (c >= 0x2000 && c <= 0x200F) || (c >= 0x2028 && c <= 0x202F) ||
        (c >= 0x205F && c <= 0x2064) || (c >= 0x2066 && c <= 0x206F) || c == 0x3000)
        return false;
    if ((c >= 0xD800 && c <= 0xF8FF) || c == 0xFEFF || (c >= 0xFFF9 && c <= 0xFFFB) || (c & 0xFFFE) == 0xFFFE)
        return false;
    if (c == 0x110BD || c == 0x110CD || (c >= 0x1BCA0 && c <= 0x1BCA3) || (c >= 0x1D173 && c <= 0x1D17A))
        return false;
    if (c == 0xE0001 || (c >= 0xE0020 && c <= 0xE007F) || c >= 0xF0000) return false;
    return true;
}

/* Python str.lower() for one code point, for the scripts keys are likely to
 * use (Latin, Greek, Cyrillic, Armenian, full-width Latin); other code points
 * are left as they are. */
static uint32_t py_lower(uint32_t c) {
    if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;
    if (c >= 0x100 && c <= 0x137) return c | 1;
    if (c >= 0x139 && c <= 0x148) return (c & 1) ? c + 1 : c;
    if (c >= 0x14A && c <= 0x177) return c | 1;
    if (c == 0x178) return 0xFF;
    if (c >= 0x179 && c <= 0x17E) return (c & 1) ? c + 1 : c;
    if (c == 0x386) return 0x3AC;
    if (c >= 0x388 && c <= 0x38A) return c + 37;
    if (c == 0x38C) return 0x3CC;
    if (c == 0x38E || c == 0x38F) return c + 63;
    if ((c >= 0x391 && c <= 0x3A1) || (c >= 0x3A3 && c <= 0x3AB)) return c + 32;
    if (c >= 0x400 && c <= 0x40F) return c + 80;
    if (c >= 0x410 && c <= 0x42F) return c + 32;
    if ((c >= 0x460 && c <= 0x481) || (c >= 0x48A && c <= 0x4BF) || (c >= 0x4D0 && c <= 0x52F)) return c | 1;
    if (c == 0x4C0) return 0x4CF;
    if (c >= 0x4C1 && c <= 0x4CE) return (c & 1) ? c + 1 : c;
    if (c >= 0x531 && c <= 0x556) return c + 48;
    if (c >= 0xFF21 && c <= 0xFF3A) return c + 32;
    return c;
}

/* ---- str() and repr() -------------------------------------------------- */

void g4_py_float(struct g4_strbuf *b, double d) {
    char t[40];
    if (isnan(d)) {
        g4_strbuf_puts(b, "nan");
        return;
    }
    if (isinf(d)) {
        g4_strbuf_puts(b, d < 0 ? "-inf" : "inf");
        return;
    }
    /* Shortest precision that round-trips: the digits of Python's repr
     * (dtoa mode 0), since %.*e rounds correctly. */
    int prec;
    for (prec = 1; prec <= 17; prec++) {
        snprintf(t, sizeof t, "%.*e", prec - 1, d);
        if (strtod(t, NULL) == d) break;
    }
    if (prec > 17) prec = 17;
    snprintf(t, sizeof t, "%.*e", prec - 1, d);
    /* t = [-]D[.DDD]e[+-]XX */
    const char *p = t;
    bool neg = false;
    if (*p == '-') {
        neg = true;
        p++;
    }
    char digits[24];
    int nd = 0;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9' && nd < 20) digits[nd++] = *p;
    int exp10 = *p == 'e' ? atoi(p + 1) : 0;
    while (nd > 1 && digits[nd - 1] == '0') nd--;
    int decpt = exp10 + 1; /* value = 0.DIGITS * 10^decpt */
    if (neg) g4_strbuf_put(b, "-", 1);
    if (decpt > -4 && decpt <= 16) {
        if (decpt <= 0) {
            g4_strbuf_put(b, "0.", 2);
            for (int i = 0; i < -decpt; i++) g4_strbuf_put(b, "0", 1);
            g4_strbuf_put(b, digits, (size_t)nd);
        } else if (nd <= decpt) {
            g4_strbuf_put(b, digits, (size_t)nd);
            for (int i = nd; i < decpt; i++) g4_strbuf_put(b, "0", 1);
            g4_strbuf_put(b, ".0", 2);
        } else {
            g4_strbuf_put(b, digits, (size_t)decpt);
            g4_strbuf_put(b, ".", 1);
            g4_strbuf_put(b, digits + decpt, (size_t)(nd - decpt));
        }
    } else {
        g4_strbuf_put(b, digits, 1);
        if (nd > 1) {
            g4_strbuf_put(b, ".", 1);
            g4_strbuf_put(b, digits + 1, (size_t)(nd - 1));
        }
        int e = decpt - 1;
        snprintf(t, sizeof t, "e%c%02d", e < 0 ? '-' : '+', e < 0 ? -e : e);
        g4_strbuf_puts(b, t);
    }
}

/* Python repr() of a str. */
static void py_repr_string(struct g4_strbuf *b, const char *s, size_t n) {
    bool has_sq = memchr(s, '\'', n) != NULL, has_dq = memchr(s, '"', n) != NULL;
    char q = (has_sq && !has_dq) ? '"' : '\'';
    g4_strbuf_put(b, &q, 1);
    for (size_t i = 0; i < n;) {
        uint32_t c;
        size_t len = utf8_next(s, n, i, &c);
        char t[16];
        if (c == (uint32_t)q || c == '\\') {
            t[0] = '\\';
            t[1] = (char)c;
            g4_strbuf_put(b, t, 2);
        } else if (c == '\t') {
            g4_strbuf_put(b, "\\t", 2);
        } else if (c == '\n') {
            g4_strbuf_put(b, "\\n", 2);
        } else if (c == '\r') {
            g4_strbuf_put(b, "\\r", 2);
        } else if (c < 0x80 && (c < 0x20 || c == 0x7F)) {
            snprintf(t, sizeof t, "\\x%02x", (unsigned)c);
            g4_strbuf_puts(b, t);
        } else if (c < 0x80 || py_isprintable(c)) {
            g4_strbuf_put(b, s + i, len);
        } else {
            if (c <= 0xFF) snprintf(t, sizeof t, "\\x%02x", (unsigned)c);
            else if (c <= 0xFFFF) snprintf(t, sizeof t, "\\u%04x", (unsigned)c);
            else snprintf(t, sizeof t, "\\U%08x", (unsigned)c);
            g4_strbuf_puts(b, t);
        }
        i += len;
    }
    g4_strbuf_put(b, &q, 1);
}

static void py_repr(struct g4_strbuf *b, const json_t *v, int depth);

static void py_scalar(struct g4_strbuf *b, const json_t *v) {
    char t[32];
    switch (json_typeof(v)) {
    case JSON_INTEGER:
        snprintf(t, sizeof t, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        g4_strbuf_puts(b, t);
        break;
    case JSON_REAL: g4_py_float(b, json_real_value(v)); break;
    case JSON_TRUE: g4_strbuf_puts(b, "True"); break;
    case JSON_FALSE: g4_strbuf_puts(b, "False"); break;
    default: g4_strbuf_puts(b, "None"); break;
    }
}

static void py_repr(struct g4_strbuf *b, const json_t *v, int depth) {
    if (depth > 1000) { /* Python would raise RecursionError; JSON input cannot get here */
        g4_strbuf_puts(b, "...");
        return;
    }
    if (json_is_string(v)) {
        py_repr_string(b, json_string_value(v), json_string_length(v));
    } else if (json_is_array(v)) {
        g4_strbuf_put(b, "[", 1);
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i) g4_strbuf_put(b, ", ", 2);
            py_repr(b, json_array_get(v, i), depth + 1);
        }
        g4_strbuf_put(b, "]", 1);
    } else if (json_is_object(v)) {
        const char *k;
        json_t *x;
        bool first = true;
        g4_strbuf_put(b, "{", 1);
        json_object_foreach((json_t *)v, k, x) {
            if (!first) g4_strbuf_put(b, ", ", 2);
            first = false;
            py_repr_string(b, k, strlen(k));
            g4_strbuf_put(b, ": ", 2);
            py_repr(b, x, depth + 1);
        }
        g4_strbuf_put(b, "}", 1);
    } else {
        py_scalar(b, v);
    }
}

void g4_py_str(struct g4_strbuf *b, const json_t *v) {
    if (!v) return; /* Undefined prints as "" */
    if (json_is_string(v)) g4_strbuf_put(b, json_string_value(v), json_string_length(v));
    else py_repr(b, v, 0);
}

/* ---- strip / upper ----------------------------------------------------- */

void g4_py_strip(const char *s, size_t n, size_t *start, size_t *end) {
    size_t i = 0, j = n;
    while (i < n) {
        uint32_t c;
        size_t len = utf8_next(s, n, i, &c);
        if (!py_isspace(c)) break;
        i += len;
    }
    while (j > i) {
        size_t k = j - 1; /* back up to the start of the last code point */
        while (k > i && ((unsigned char)s[k] & 0xC0) == 0x80) k--;
        uint32_t c;
        size_t len = utf8_next(s, n, k, &c);
        if (k + len != j) { /* invalid sequence: treat the byte as non-space */
            break;
        }
        if (!py_isspace(c)) break;
        j = k;
    }
    *start = i;
    *end = j;
}

void g4_py_str_trim(struct g4_strbuf *b, const json_t *v) {
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t a, z;
        g4_py_strip(s, json_string_length(v), &a, &z);
        g4_strbuf_put(b, s + a, z - a);
        return;
    }
    struct g4_strbuf t = {0};
    g4_py_str(&t, v);
    if (t.oom) b->oom = true;
    else if (t.n) {
        size_t a, z;
        g4_py_strip(t.p, t.n, &a, &z);
        g4_strbuf_put(b, t.p + a, z - a);
    }
    g4_strbuf_free(&t);
}

g4_status g4_py_str_upper(struct g4_strbuf *b, const json_t *v, g4_error *err) {
    struct g4_strbuf t = {0};
    g4_py_str(&t, v);
    if (t.oom) {
        g4_strbuf_free(&t);
        return g4_fail(err, G4_ERR_NOMEM, "chat: out of memory");
    }
    for (size_t i = 0; i < t.n; i++) {
        unsigned char c = (unsigned char)t.p[i];
        if (c >= 0x80) {
            g4_strbuf_free(&t);
            return g4_fail(err, G4_ERR_UNSUPPORTED,
                           "chat: tool schema: upper-casing non-ASCII text is not supported (in a JSON-schema 'type')");
        }
        if (c >= 'a' && c <= 'z') t.p[i] = (char)(c - 32);
    }
    g4_strbuf_put(b, t.p ? t.p : "", t.n);
    g4_strbuf_free(&t);
    return G4_OK;
}

/* ---- dictsort ---------------------------------------------------------- */

struct sort_key {
    const char *key;
    char *low;   /* lower-cased key */
    size_t low_n;
    size_t index; /* insertion order, for stability */
};

static int sort_key_cmp(const void *a, const void *b) {
    const struct sort_key *x = a, *y = b;
    size_t n = G4_MIN(x->low_n, y->low_n);
    int c = memcmp(x->low, y->low, n); /* UTF-8 byte order == code point order */
    if (c) return c;
    if (x->low_n != y->low_n) return x->low_n < y->low_n ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

g4_status g4_py_dictsort(const json_t *obj, const char ***keys, size_t *n, g4_error *err) {
    *keys = NULL;
    *n = 0;
    if (!json_is_object(obj))
        return g4_fail(err, G4_ERR_INVALID_ARG, "chat template: dictsort of a value that is not an object");
    size_t cnt = json_object_size(obj);
    if (cnt == 0) return G4_OK;
    struct sort_key *sk = calloc(cnt, sizeof *sk);
    const char **out = calloc(cnt, sizeof *out);
    g4_status st = G4_OK;
    if (!sk || !out) {
        st = g4_fail(err, G4_ERR_NOMEM, "chat: out of memory");
        goto done;
    }
    size_t i = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v) {
        (void)v;
        if (i >= cnt) break;
        struct g4_strbuf low = {0};
        size_t kn = strlen(k);
        for (size_t p = 0; p < kn;) {
            uint32_t c;
            size_t len = utf8_next(k, kn, p, &c);
            if (c == 0xFFFD && len == 1 && (unsigned char)k[p] >= 0x80) g4_strbuf_put(&low, k + p, 1);
            else utf8_put(&low, py_lower(c));
            p += len;
        }
        if (low.oom || !low.p) g4_strbuf_put(&low, "", 0);
        if (low.oom) {
            g4_strbuf_free(&low);
            st = g4_fail(err, G4_ERR_NOMEM, "chat: out of memory");
            goto done;
        }
        sk[i] = (struct sort_key){k, low.p, low.n, i};
        i++;
    }
    cnt = i;
    qsort(sk, cnt, sizeof *sk, sort_key_cmp);
    for (i = 0; i < cnt; i++) out[i] = sk[i].key;
    *keys = out;
    *n = cnt;
    out = NULL;
done:
    if (sk)
        for (i = 0; i < cnt; i++) free(sk[i].low);
    free(sk);
    free(out);
    return st;
}

/* ---- iteration --------------------------------------------------------- */

g4_status g4_py_iter_items(const json_t *v, const char *what, json_t **items, g4_error *err) {
    json_t *a = json_array();
    *items = NULL;
    if (!a) return g4_fail(err, G4_ERR_NOMEM, "chat: out of memory");
    int rc = 0;
    if (!v) {
        /* Undefined iterates as empty */
    } else if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v) && !rc; i++) rc = json_array_append(a, json_array_get(v, i));
    } else if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x) {
            (void)x;
            if (!rc) rc = json_array_append_new(a, json_string(k));
        }
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        for (size_t i = 0; i < n && !rc;) {
            uint32_t c;
            size_t len = utf8_next(s, n, i, &c);
            rc = json_array_append_new(a, json_stringn_nocheck(s + i, len));
            i += len;
        }
    } else {
        json_decref(a);
        return g4_fail(err, G4_ERR_INVALID_ARG, "chat template: %s is not iterable (a %s)", what,
                       json_is_integer(v) ? "int" : json_is_real(v) ? "float" : json_is_boolean(v) ? "bool" : "None");
    }
    if (rc) {
        json_decref(a);
        return g4_fail(err, G4_ERR_NOMEM, "chat: out of memory");
    }
    *items = a;
    return G4_OK;
}
