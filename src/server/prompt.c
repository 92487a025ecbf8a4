/* prompt.c — chat rendering and untrusted-content tokenization (see
 * prompt.h for the method and its invariant). */
#include "server/prompt.h"

#include "api/model_impl.h"
#include "tokenizer/chat.h"
#include "tokenizer/tokenizer.h"

#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64            /* nesting accepted in messages and tools */
#define MAX_PLACEHOLDERS 65534  /* U+F0000 .. U+FFFFD */

struct g4_specials {
    const struct g4_tokenizer *tok;
    uint8_t first[256];  /* bytes that start some special-token string */
    size_t max_len;
};

g4_status g4_specials_new(const g4_model *m, struct g4_specials **out, g4_error *err) {
    *out = NULL;
    if (!m->tok) return g4_fail(err, G4_ERR_INVALID_ARG, "serve: the model has no tokenizer");
    struct g4_specials *s = calloc(1, sizeof *s);
    if (!s) return g4_fail(err, G4_ERR_NOMEM, "serve: out of memory");
    s->tok = m->tok;
    int32_t n = g4_tokenizer_n_vocab(m->tok);
    for (int32_t id = 0; id < n; id++) {
        size_t len = 0;
        const char *p = g4_tokenizer_piece(m->tok, id, &len);
        if (!p || !len || !g4_tokenizer_is_special(m->tok, id)) continue;
        s->first[(uint8_t)p[0]] = 1;
        if (len > s->max_len) s->max_len = len;
    }
    *out = s;
    return G4_OK;
}

void g4_specials_free(struct g4_specials *s) { free(s); }

size_t g4_specials_match(const struct g4_specials *s, const char *text, size_t len) {
    if (!len || !s->first[(uint8_t)text[0]]) return 0;
    for (size_t l = G4_MIN(len, s->max_len); l > 0; l--) {
        int32_t id = g4_tokenizer_find(s->tok, text, l);
        if (id >= 0 && g4_tokenizer_is_special(s->tok, id)) return l;
    }
    return 0;
}

/* ---- placeholders ------------------------------------------------------ */

struct subst {
    const struct g4_specials *sp;
    char **lit;      /* literal text of placeholder k */
    size_t *lit_len;
    size_t n, cap;
    bool overflow, oom;
};

static bool is_ph(const unsigned char *p, size_t len) { /* U+F0000..U+10FFFF */
    return len >= 4 && (p[0] == 0xF3 ? p[1] >= 0xB0 : p[0] == 0xF4) && (p[1] & 0xC0) == 0x80 &&
           (p[2] & 0xC0) == 0x80 && (p[3] & 0xC0) == 0x80;
}

static void put_ph(char *o, size_t k) {
    uint32_t cp = 0xF0000u + (uint32_t)k;
    o[0] = (char)0xF3;
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
}

static size_t ph_index(const unsigned char *p) {
    uint32_t cp = ((uint32_t)(p[0] & 0x07) << 18) | ((uint32_t)(p[1] & 0x3F) << 12) | ((uint32_t)(p[2] & 0x3F) << 6) |
                  (p[3] & 0x3F);
    return cp - 0xF0000u;
}

/* Returns a new string with specials and private-use characters replaced by
 * placeholders, or NULL (oom/overflow flagged). *changed tells if any. */
static char *subst_string(struct subst *S, const char *s, size_t len, size_t *out_len, bool *changed) {
    char *o = malloc(4 * len + 1); /* worst case: every byte a 1-byte special */
    if (!o) return S->oom = true, NULL;
    size_t j = 0;
    for (size_t i = 0; i < len;) {
        size_t l = g4_specials_match(S->sp, s + i, len - i);
        if (!l && is_ph((const unsigned char *)s + i, len - i)) l = 4;
        if (!l) {
            o[j++] = s[i++];
            continue;
        }
        if (S->n >= MAX_PLACEHOLDERS) {
            free(o);
            return S->overflow = true, NULL;
        }
        if (S->n == S->cap) {
            size_t cap = S->cap ? S->cap * 2 : 16;
            char **a = realloc(S->lit, cap * sizeof *a);
            if (a) S->lit = a;
            size_t *b = a ? realloc(S->lit_len, cap * sizeof *b) : NULL;
            if (b) S->lit_len = b;
            if (!a || !b) {
                free(o);
                return S->oom = true, NULL;
            }
            S->cap = cap;
        }
        S->lit[S->n] = strndup(s + i, l);
        if (!S->lit[S->n]) {
            free(o);
            return S->oom = true, NULL;
        }
        S->lit_len[S->n] = l;
        put_ph(o + j, S->n++);
        j += 4;
        i += l;
        *changed = true;
    }
    o[j] = 0;
    *out_len = j;
    return o;
}

/* Deep copy of v with every string (and object key) substituted. */
static json_t *subst_json(struct subst *S, const json_t *v, int depth, bool *changed) {
    if (depth > MAX_DEPTH) return NULL;
    if (json_is_string(v)) {
        size_t len;
        char *s = subst_string(S, json_string_value(v), json_string_length(v), &len, changed);
        if (!s) return NULL;
        json_t *r = json_stringn_nocheck(s, len);
        free(s);
        return r;
    }
    if (json_is_array(v)) {
        json_t *a = json_array();
        for (size_t i = 0; a && i < json_array_size(v); i++) {
            json_t *c = subst_json(S, json_array_get(v, i), depth + 1, changed);
            if (!c || json_array_append_new(a, c)) {
                json_decref(a);
                return NULL;
            }
        }
        return a;
    }
    if (json_is_object(v)) {
        json_t *o = json_object();
        const char *k;
        json_t *c;
        json_object_foreach((json_t *)v, k, c) {
            size_t kl;
            char *ks = subst_string(S, k, strlen(k), &kl, changed);
            json_t *cc = ks ? subst_json(S, c, depth + 1, changed) : NULL;
            if (!cc || json_object_set_new_nocheck(o, ks, cc)) {
                free(ks);
                json_decref(o);
                return NULL;
            }
            free(ks);
        }
        return o;
    }
    return json_deep_copy(v);
}

int g4_prompt_tokenize(const g4_model *m, const char *text, size_t len, int flags, int32_t **ids, size_t *n,
                       struct g4_api_error *e) {
    g4_error err = {0};
    size_t cap = len / 2 + 16, got = 0;
    *ids = NULL;
    *n = 0;
    for (int pass = 0; pass < 2; pass++) {
        int32_t *b = malloc(cap * sizeof *b);
        if (!b) return g4_api_fail(e, 500, "server_error", NULL, NULL, "out of memory");
        g4_status st = g4_tokenizer_encode(m->tok, text, len, flags, b, cap, &got, &err);
        if (st == G4_OK) {
            *ids = b;
            *n = got;
            return 0;
        }
        free(b);
        if (st != G4_ERR_RANGE) return g4_api_fail(e, 500, "server_error", NULL, NULL, "tokenizer: %s", err.message);
        cap = got + 1;
    }
    return g4_api_fail(e, 500, "server_error", NULL, NULL, "tokenizer: size changed between passes");
}

/* Appends ids to a growable array. */
static bool push_ids(int32_t **a, size_t *n, size_t *cap, const int32_t *src, size_t k) {
    if (*n + k > *cap) {
        size_t c = (*n + k) * 2;
        int32_t *b = realloc(*a, c * sizeof *b);
        if (!b) return false;
        *a = b;
        *cap = c;
    }
    memcpy(*a + *n, src, k * sizeof *src);
    *n += k;
    return true;
}

/* Split path: rendered text with placeholders -> ids. */
static int split_tokenize(const g4_model *m, const struct g4_specials *sp, const struct subst *S, const char *t,
                          size_t len, int32_t **ids, size_t *n, struct g4_api_error *e) {
    int32_t *out = NULL;
    size_t n_out = 0, cap = 0;
    char *run = malloc(len + 1); /* literals may be longer than placeholders: grow below */
    size_t run_len = 0, run_cap = len + 1;
    int st = 0;
    if (!run) return g4_api_fail(e, 500, "server_error", NULL, NULL, "out of memory");
    for (size_t i = 0; i <= len;) {
        size_t l = i < len ? g4_specials_match(sp, t + i, len - i) : 0;
        if (i == len || l) {
            if (run_len) {
                int32_t *r;
                size_t nr;
                if ((st = g4_prompt_tokenize(m, run, run_len, 0, &r, &nr, e))) goto out;
                bool ok = push_ids(&out, &n_out, &cap, r, nr);
                free(r);
                if (!ok) goto oom;
                run_len = 0;
            }
            if (i == len) break;
            int32_t id = g4_tokenizer_find(m->tok, t + i, l);
            if (!push_ids(&out, &n_out, &cap, &id, 1)) goto oom;
            i += l;
            continue;
        }
        const char *piece = t + i;
        size_t pl = 1;
        if (is_ph((const unsigned char *)t + i, len - i)) {
            size_t k = ph_index((const unsigned char *)t + i);
            if (k < S->n) piece = S->lit[k], pl = S->lit_len[k];
            i += 4;
        } else {
            i++;
        }
        if (run_len + pl + 1 > run_cap) {
            char *nr = realloc(run, (run_len + pl + 1) * 2);
            if (!nr) goto oom;
            run = nr;
            run_cap = (run_len + pl + 1) * 2;
        }
        memcpy(run + run_len, piece, pl);
        run_len += pl;
    }
    free(run);
    *ids = out;
    *n = n_out;
    return 0;
oom:
    st = g4_api_fail(e, 500, "server_error", NULL, NULL, "out of memory");
out:
    free(run);
    free(out);
    return st;
}

int g4_prompt_chat(const g4_model *m, const struct g4_specials *sp, const struct g4_oai_req *r, bool thinking,
                   bool force_split, int32_t **ids, size_t *n, struct g4_api_error *e) {
    *ids = NULL;
    *n = 0;
    struct subst S = {.sp = sp};
    bool changed = false;
    json_t *msgs = subst_json(&S, r->messages, 0, &changed);
    json_t *tools = msgs && r->tools && r->tool_choice != G4_TOOL_NONE ? subst_json(&S, r->tools, 0, &changed) : NULL;
    char *text = NULL;
    int st = 0;
    if (!msgs || (r->tools && r->tool_choice != G4_TOOL_NONE && !tools)) {
        if (S.oom) st = g4_api_fail(e, 500, "server_error", NULL, NULL, "out of memory");
        else if (S.overflow) st = g4_api_bad(e, "messages", "too many special-token strings in the request");
        else st = g4_api_bad(e, msgs ? "tools" : "messages", "nesting deeper than %d levels", MAX_DEPTH);
        goto out;
    }
    struct g4_chat_opts opts = {.add_generation_prompt = true, .enable_thinking = thinking, .bos = "<bos>"};
    g4_error err = {0};
    g4_status gs = g4_chat_render_json(m->chat_format, msgs, tools, &opts, &text, &err);
    if (gs == G4_ERR_NOMEM) {
        st = g4_api_fail(e, 500, "server_error", NULL, NULL, "out of memory");
        goto out;
    }
    if (gs != G4_OK) {
        /* the message may quote placeholders; it names the field at fault */
        st = g4_api_bad(e, strstr(err.message, "tools") ? "tools" : "messages", "%s", err.message);
        goto out;
    }
    if (!changed && !force_split) st = g4_prompt_tokenize(m, text, strlen(text), G4_TOK_PARSE_SPECIAL, ids, n, e);
    else st = split_tokenize(m, sp, &S, text, strlen(text), ids, n, e);
out:
    free(text);
    json_decref(msgs);
    json_decref(tools);
    for (size_t i = 0; i < S.n; i++) free(S.lit[i]);
    free(S.lit);
    free(S.lit_len);
    return st;
}
