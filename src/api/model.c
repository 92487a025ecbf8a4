/* model.c — g4_model_load / g4_model_free and the tokenizer wrappers.
 * Loading: each path is a Hugging Face directory or a GGUF file; the first
 * is the main model, later ones may be an mmproj GGUF (architecture "clip")
 * or an MTP assistant (GGUF "gemma4-assistant" or an HF assistant
 * directory). Every file is mapped read-only and its tensors go into a
 * tensor directory; the config comes from config.json or GGUF metadata; the
 * tokenizer from tokenizer.json or GGUF metadata. A tokenizer that reports
 * UNSUPPORTED is tolerated with a warning (so `g4 info` works on models whose
 * tokenizer type g4 lacks) unless only the tokenizer was asked for; any other
 * tokenizer error fails the load. */
#include "api/model_impl.h"

#include "core/log.h"
#include "io/hfdir.h"
#include "model/names.h"

#include <stdlib.h>
#include <string.h>

#define MAX_PATHS 8
#define MAX_CONFIG_BYTES (4ull << 20)
#define MAX_TOKENIZER_BYTES (256ull << 20)

static int add_file(g4_model *m, const char *path, enum g4_file_role role, g4_error *err) {
    if (m->n_files >= G4_MAX_FILES) {
        g4_fail(err, G4_ERR_RANGE, "%s: too many model files (limit %d)", path, G4_MAX_FILES);
        return -1;
    }
    char *p = strdup(path);
    if (!p) {
        g4_fail(err, G4_ERR_NOMEM, "out of memory");
        return -1;
    }
    m->paths[m->n_files] = p;
    m->roles[m->n_files] = (uint8_t)role;
    return m->n_files++;
}

static g4_status add_gguf_tensors(struct g4_tensordir *d, const struct gguf_file *g, int file, g4_error *err) {
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const struct gguf_tensor_info *ti = &g->tensors[i];
        struct g4_tensor t = {0};
        char *name = malloc(ti->name.len + 1);
        if (!name) return g4_fail(err, G4_ERR_NOMEM, "out of memory");
        memcpy(name, ti->name.s, ti->name.len);
        name[ti->name.len] = 0;
        if (strlen(name) != ti->name.len) {
            free(name);
            return g4_fail(err, G4_ERR_FORMAT, "%s: tensor %llu has a NUL in its name", g->name, (unsigned long long)i);
        }
        t.name = name;
        t.type = ti->type;
        t.n_dims = (int)ti->n_dims;
        memcpy(t.ne, ti->ne, sizeof t.ne);
        t.data = ti->data;
        t.nbytes = ti->nbytes;
        t.file = file;
        g4_status st = g4_tensordir_add(d, &t, err);
        free(name);
        if (st) {
            g4_error_prefix(err, g->name);
            return st;
        }
    }
    return G4_OK;
}

/* Tolerate an UNSUPPORTED tokenizer (see the file comment). */
static g4_status tokenizer_result(g4_model *m, g4_status st, const char *what, g4_error *err) {
    if (st == G4_ERR_UNSUPPORTED && !m->tokenizer_only) {
        G4_LOGW("%s: no usable tokenizer (%s); tokenize/chat will be unavailable", what, err ? err->message : "");
        if (err) g4_error_clear(err);
        m->tok = NULL;
        return G4_OK;
    }
    return st;
}

static g4_status load_gguf(g4_model *m, const char *path, bool first, g4_error *err) {
    if (!g4_file_exists(path)) return g4_fail(err, G4_ERR_IO, "%s: no such file", path);
    int idx = add_file(m, path, G4_FILE_MODEL, err);
    if (idx < 0) return err ? err->code : G4_ERR_RANGE;
    g4_status st = gguf_open(&m->gguf[idx], path, err);
    if (st) return st;
    struct gguf_file *g = &m->gguf[idx];
    struct gguf_str arch = {0};
    gguf_get_str(g, "general.architecture", &arch);
    if (gguf_str_eq(arch, "clip")) {
        if (first || !m->has_config)
            return g4_fail(err, G4_ERR_INVALID_ARG, "%s: an mmproj file must follow the model file", path);
        m->roles[idx] = G4_FILE_MMPROJ;
        if ((st = g4_config_add_mmproj(&m->cfg, g, err))) return st;
        return add_gguf_tensors(&m->tensors, g, idx, err);
    }
    if (gguf_str_eq(arch, "gemma4-assistant")) {
        if (first) goto main_model; /* an assistant on its own (e.g. for `g4 info`) */
        if (m->assistant) return g4_fail(err, G4_ERR_INVALID_ARG, "%s: more than one assistant model", path);
        m->roles[idx] = G4_FILE_ASSISTANT;
        m->assistant = malloc(sizeof *m->assistant);
        if (!m->assistant) return g4_fail(err, G4_ERR_NOMEM, "out of memory");
        if ((st = g4_config_from_gguf(m->assistant, g, err))) return st;
        if ((st = add_gguf_tensors(&m->assistant_tensors, g, idx, err))) return st;
        if ((st = g4_names_check(&m->assistant_tensors, m->assistant, err))) g4_error_prefix(err, path);
        return st;
    }
main_model:
    if (!first) return g4_fail(err, G4_ERR_INVALID_ARG, "%s: a second main model (only mmproj or assistant files may follow)", path);
    if (m->tokenizer_only) {
        /* a tokenizer-only load needs no model config (e.g. a vocab-only GGUF) */
        g4_error ignored;
        m->has_config = g4_config_from_gguf(&m->cfg, g, &ignored) == G4_OK;
    } else {
        if ((st = g4_config_from_gguf(&m->cfg, g, err))) return st;
        m->has_config = true;
    }
    if (!m->tokenizer_only && (st = add_gguf_tensors(&m->tensors, g, idx, err))) return st;
    st = g4_tokenizer_from_gguf(&m->tok, g, err);
    return tokenizer_result(m, st, path, err);
}

static g4_status read_opt(const char *path, uint64_t limit, char **out, size_t *len, g4_error *err) {
    *out = NULL;
    *len = 0;
    if (!path) return G4_OK;
    return g4_read_file(path, limit, out, len, err);
}

static g4_status load_config_json(struct g4_config *c, const struct g4_hfdir *h, g4_error *err) {
    char *cj = NULL, *gj = NULL;
    size_t cl = 0, gl = 0;
    g4_status st = read_opt(h->config, MAX_CONFIG_BYTES, &cj, &cl, err);
    if (!st) st = read_opt(h->generation_config, MAX_CONFIG_BYTES, &gj, &gl, err);
    if (!st) st = g4_config_from_hf_json(c, cj, cl, gj, gl, h->config, err);
    free(cj);
    free(gj);
    return st;
}

static g4_status load_tokenizer_json(g4_model *m, const struct g4_hfdir *h, g4_error *err) {
    if (!h->tokenizer) {
        if (m->tokenizer_only) return g4_fail(err, G4_ERR_NOT_FOUND, "%s: no tokenizer.json", h->dir);
        G4_LOGW("%s: no tokenizer.json; tokenize/chat will be unavailable", h->dir);
        return G4_OK;
    }
    char *tj = NULL, *tc = NULL;
    size_t tl = 0, tcl = 0;
    g4_status st = read_opt(h->tokenizer, MAX_TOKENIZER_BYTES, &tj, &tl, err);
    if (!st) st = read_opt(h->tokenizer_config, MAX_CONFIG_BYTES, &tc, &tcl, err);
    if (!st) {
        st = g4_tokenizer_from_json(&m->tok, tj, tl, tc, tcl, h->tokenizer, err);
        st = tokenizer_result(m, st, h->tokenizer, err);
    }
    free(tj);
    free(tc);
    if (!st && h->chat_template) {
        size_t n;
        st = g4_read_file(h->chat_template, MAX_CONFIG_BYTES, &m->chat_template, &n, err);
    }
    return st;
}

/* Load progress: path i of n covers [i/(n+1), (i+1)/(n+1)); shards subdivide it. */
struct progress {
    g4_progress_fn fn;
    void *user;
    double base, span;
};

static void shard_progress(int done, int total, void *user) {
    struct progress *p = user;
    if (p && p->fn && total > 0) p->fn(p->base + p->span * done / total, p->user);
}

static g4_status load_hf(g4_model *m, const char *dir, bool first, struct progress *pr, g4_error *err) {
    struct g4_hfdir h;
    g4_status st = g4_hfdir_open(&h, dir, err);
    if (st) return st;
    if (first) {
        if (g4_hfdir_tokenizer_only(&h)) m->tokenizer_only = true;
        if (h.config) {
            if ((st = load_config_json(&m->cfg, &h, err))) goto done;
            m->has_config = true;
        }
        if (!m->tokenizer_only) {
            int first_file = m->n_files;
            if (first_file + h.n_shards > G4_MAX_FILES) {
                st = g4_fail(err, G4_ERR_RANGE, "%s: too many files", dir);
                goto done;
            }
            for (int i = 0; i < h.n_shards; i++)
                if (add_file(m, h.shards[i], G4_FILE_MODEL, err) < 0) {
                    st = err ? err->code : G4_ERR_NOMEM;
                    goto done;
                }
            if ((st = g4_hfdir_load(&h, &m->maps[first_file], first_file, &m->tensors, shard_progress, pr, err)))
                goto done;
        }
        st = load_tokenizer_json(m, &h, err);
    } else {
        /* a second directory is an assistant */
        if (!h.config || g4_hfdir_tokenizer_only(&h)) {
            st = g4_fail(err, G4_ERR_INVALID_ARG, "%s: a second directory must be an assistant model with weights", dir);
            goto done;
        }
        if (m->assistant) {
            st = g4_fail(err, G4_ERR_INVALID_ARG, "%s: more than one assistant model", dir);
            goto done;
        }
        m->assistant = malloc(sizeof *m->assistant);
        if (!m->assistant) {
            st = g4_fail(err, G4_ERR_NOMEM, "out of memory");
            goto done;
        }
        if ((st = load_config_json(m->assistant, &h, err))) goto done;
        if (!m->assistant->is_assistant) {
            st = g4_fail(err, G4_ERR_INVALID_ARG, "%s: model_type %s is not an assistant; only one main model may be given",
                         dir, m->assistant->model_type);
            goto done;
        }
        int first_file = m->n_files;
        for (int i = 0; i < h.n_shards; i++)
            if (add_file(m, h.shards[i], G4_FILE_ASSISTANT, err) < 0) {
                st = err ? err->code : G4_ERR_NOMEM;
                goto done;
            }
        if ((st = g4_hfdir_load(&h, &m->maps[first_file], first_file, &m->assistant_tensors, shard_progress, pr, err)))
            goto done;
        if ((st = g4_names_check(&m->assistant_tensors, m->assistant, err))) g4_error_prefix(err, dir);
    }
done:
    g4_hfdir_free(&h);
    return st;
}

/* Stop tokens a GGUF may not list: Gemma 3 <end_of_turn>, Gemma 4 <turn|> and <|tool_response>. */
static void add_turn_eos(g4_model *m) {
    if (!m->tok || !m->has_config || m->cfg.source != G4_SRC_GGUF) return;
    static const char *const g3[] = {"<end_of_turn>"}, *const g4[] = {"<turn|>", "<|tool_response>"};
    const char *const *list = m->cfg.arch == G4_ARCH_GEMMA3 ? g3 : g4;
    size_t n = m->cfg.arch == G4_ARCH_GEMMA3 ? 1 : 2;
    for (size_t i = 0; i < n; i++) {
        int32_t id = g4_tokenizer_find(m->tok, list[i], strlen(list[i]));
        bool have = false;
        for (int k = 0; k < m->cfg.n_eos; k++) have = have || m->cfg.eos_ids[k] == id;
        if (id >= 0 && id < m->cfg.n_vocab && !have && m->cfg.n_eos < G4_MAX_EOS) m->cfg.eos_ids[m->cfg.n_eos++] = id;
    }
}

g4_status g4_model_load(const char *const *paths, int n_paths, const g4_model_params *params, g4_model **out,
                        g4_error *err) {
    if (!out) return g4_fail(err, G4_ERR_INVALID_ARG, "g4_model_load: out is NULL");
    *out = NULL;
    if (!paths || n_paths < 1 || n_paths > MAX_PATHS)
        return g4_fail(err, G4_ERR_INVALID_ARG, "g4_model_load: need 1..%d paths, got %d", MAX_PATHS, n_paths);
    for (int i = 0; i < n_paths; i++)
        if (!paths[i] || !*paths[i]) return g4_fail(err, G4_ERR_INVALID_ARG, "g4_model_load: path %d is empty", i);
    g4_model *m = calloc(1, sizeof *m);
    if (!m) return g4_fail(err, G4_ERR_NOMEM, "out of memory");
    g4_tensordir_init(&m->tensors);
    g4_tensordir_init(&m->assistant_tensors);
    m->tokenizer_only = params && params->tokenizer_only;
    g4_progress_fn progress = params ? params->progress : NULL;
    void *pu = params ? params->progress_user : NULL;
    if (progress) progress(0.0, pu);
    g4_status st = G4_OK;
    for (int i = 0; i < n_paths && !st; i++) {
        struct progress pr = {progress, pu, (double)i / (n_paths + 1), 1.0 / (n_paths + 1)};
        if (g4_is_dir(paths[i]))
            st = load_hf(m, paths[i], i == 0, &pr, err);
        else if (i == 0 || !m->tokenizer_only)
            st = load_gguf(m, paths[i], i == 0, err);
        if (!st && progress) progress((double)(i + 1) / (n_paths + 1), pu);
    }
    if (!st && !m->tokenizer_only) {
        if (!m->has_config) st = g4_fail(err, G4_ERR_NOT_FOUND, "%s: no model config", paths[0]);
        else if ((st = g4_names_check(&m->tensors, &m->cfg, err)))
            g4_error_prefix(err, paths[0]);
    }
    if (!st && m->tokenizer_only && !m->tok)
        st = g4_fail(err, G4_ERR_UNSUPPORTED, "%s: tokenizer-only model but the tokenizer could not be built", paths[0]);
    if (st) {
        g4_model_free(m);
        return st;
    }
    add_turn_eos(m);
    if (m->tok && m->has_config && g4_tokenizer_n_vocab(m->tok) > m->cfg.n_vocab)
        G4_LOGW("%s: the tokenizer has %d tokens but the embedding only %lld rows; higher ids are invalid", paths[0],
                g4_tokenizer_n_vocab(m->tok), (long long)m->cfg.n_vocab);
    if (m->has_config)
        m->chat_format = m->cfg.arch == G4_ARCH_GEMMA3 ? G4_CHAT_GEMMA3 : G4_CHAT_GEMMA4;
    else
        m->chat_format = m->tok && g4_tokenizer_find(m->tok, "<start_of_turn>", 15) >= 0 ? G4_CHAT_GEMMA3 : G4_CHAT_GEMMA4;
    if (progress) progress(1.0, pu);
    *out = m;
    return G4_OK;
}

void g4_model_free(g4_model *m) {
    if (!m) return;
    g4_tokenizer_free(m->tok);
    g4_tensordir_free(&m->tensors);
    g4_tensordir_free(&m->assistant_tensors);
    for (int i = 0; i < m->n_files; i++) {
        gguf_close(&m->gguf[i]);
        g4_mapfile_close(&m->maps[i]);
        free(m->paths[i]);
    }
    free(m->assistant);
    free(m->chat_template);
    free(m);
}

int32_t g4_vocab_size(const g4_model *m) {
    if (!m) return 0;
    if (m->tok) return g4_tokenizer_n_vocab(m->tok);
    return m->has_config ? (int32_t)m->cfg.n_vocab : 0;
}

g4_status g4_tokenize(const g4_model *m, const char *text, size_t len, int flags, int32_t *out, size_t cap,
                      size_t *n_out, g4_error *err) {
    if (!m || (!text && len) || !n_out) return g4_fail(err, G4_ERR_INVALID_ARG, "g4_tokenize: bad arguments");
    if (!m->tok) return g4_fail(err, G4_ERR_UNSUPPORTED, "model has no usable tokenizer");
    return g4_tokenizer_encode(m->tok, text ? text : "", len, flags, out, cap, n_out, err);
}

g4_status g4_detokenize(const g4_model *m, const int32_t *ids, size_t n, int skip_special, char **out,
                        size_t *out_len, g4_error *err) {
    if (!m || (!ids && n) || !out) return g4_fail(err, G4_ERR_INVALID_ARG, "g4_detokenize: bad arguments");
    *out = NULL;
    if (!m->tok) return g4_fail(err, G4_ERR_UNSUPPORTED, "model has no usable tokenizer");
    return g4_tokenizer_decode(m->tok, ids, n, skip_special, out, out_len, err);
}
