/* model_describe.c — g4_model_describe / g4_model_info: a human-readable or
 * JSON summary of a loaded model (architecture and variant, parameters,
 * tensor types, context, modalities, special tokens, generation defaults and
 * the memory needed to run it: mapped weights (part of them resident as the
 * kernels' repacked copies instead) plus an f16 KV cache in which
 * sliding layers keep only their window and KV-shared layers keep nothing).
 * Built as a jansson object first; the text form is rendered from it. */
#include "core/strbuf.h"
#include "api/model_impl.h"

#include "kernels/kernels.h"
#include "model/names.h"
#include "tensor/types.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_CTX 8192
#define KV_ELEM_BYTES 2 /* f16/bf16 cache */

static const char *role_name(int r) {
    return r == G4_FILE_MMPROJ ? "mmproj" : r == G4_FILE_ASSISTANT ? "assistant" : "model";
}

static json_t *token_json(const g4_model *m, int32_t id) {
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(id));
    size_t len = 0;
    const char *p = m->tok ? g4_tokenizer_piece(m->tok, id, &len) : NULL;
    if (p) json_object_set_new(o, "text", json_stringn(p, len));
    return o;
}

static const char *vision_name(enum g4_vision_kind v) {
    switch (v) {
    case G4_VISION_SIGLIP: return "SigLIP encoder";
    case G4_VISION_VIT: return "ViT encoder";
    case G4_VISION_UNIFIED: return "encoder-free embedder";
    default: return NULL;
    }
}

/* Bytes of the load-time repacked copies the decoder makes for this CPU's
 * kernels (model/weights_pack.c: every matrix of the main model except an
 * untied input embedding and the PLE table), and the plain bytes they
 * replace (their mapped pages are released after repacking). */
static void repacked_bytes(const g4_model *m, uint64_t *packed, uint64_t *plain) {
    const struct g4_kernels *kt = g4_kernels();
    const struct g4_tensor *emb = g4_names_find(&m->tensors, G4_W_TOKEN_EMBD, 0);
    const struct g4_tensor *ple = g4_names_find(&m->tensors, G4_W_PLE_TOKEN_EMBD, 0);
    const bool tied = !g4_names_find(&m->tensors, G4_W_OUTPUT, 0);
    *packed = *plain = 0;
    for (int i = 0; i < m->tensors.n; i++) {
        const struct g4_tensor *t = &m->tensors.t[i];
        if (t->n_dims < 2 || m->roles[t->file] != G4_FILE_MODEL || t == ple || (t == emb && !tied)) continue;
        const int64_t rows = t->ne[1] * t->ne[2] * t->ne[3];
        const size_t pb = g4_matmul_repack_size(kt, t->type, rows, t->ne[0]);
        if (!pb) continue;
        *packed += pb;
        *plain += t->nbytes;
    }
}

static json_t *build(const g4_model *m, int64_t n_ctx) {
    const struct g4_config *c = &m->cfg;
    json_t *o = json_object();
    if (m->has_config) {
        json_object_set_new(o, "variant", json_string(c->variant));
        json_object_set_new(o, "model_type", json_string(c->model_type));
        json_object_set_new(o, "architecture", json_string(c->arch == G4_ARCH_GEMMA3 ? "gemma3" : "gemma4"));
        json_object_set_new(o, "format", json_string(c->source == G4_SRC_GGUF ? "gguf" : "safetensors"));
    }
    json_object_set_new(o, "tokenizer_only", json_boolean(m->tokenizer_only));
    /* files */
    json_t *files = json_array();
    uint64_t mapped = 0;
    for (int i = 0; i < m->n_files; i++) {
        uint64_t sz = m->gguf[i].map.size ? m->gguf[i].map.size : m->maps[i].size;
        mapped += sz;
        json_array_append_new(files, json_pack("{s:s, s:s, s:I}", "path", m->paths[i], "role", role_name(m->roles[i]),
                                               "bytes", (json_int_t)sz));
    }
    json_object_set_new(o, "files", files);
    /* parameters and tensor types */
    uint64_t n_by_role[3] = {0}, bytes = 0;
    uint64_t cnt[G4_TYPE_COUNT] = {0}, tb[G4_TYPE_COUNT] = {0};
    const struct g4_tensordir *dirs[2] = {&m->tensors, &m->assistant_tensors};
    for (int d = 0; d < 2; d++)
        for (int i = 0; i < dirs[d]->n; i++) {
            const struct g4_tensor *t = &dirs[d]->t[i];
            int role = t->file >= 0 && t->file < m->n_files ? m->roles[t->file] : 0;
            n_by_role[role] += (uint64_t)g4_tensor_nelem(t);
            bytes += t->nbytes;
            if (t->type < G4_TYPE_COUNT) cnt[t->type]++, tb[t->type] += t->nbytes;
        }
    json_object_set_new(o, "parameters", json_pack("{s:I, s:I, s:I}", "model", (json_int_t)n_by_role[0], "mmproj",
                                                   (json_int_t)n_by_role[1], "assistant", (json_int_t)n_by_role[2]));
    json_t *types = json_array();
    for (int t = 0; t < G4_TYPE_COUNT; t++)
        if (cnt[t])
            json_array_append_new(types, json_pack("{s:s, s:I, s:I}", "type", g4_type_name((uint32_t)t), "tensors",
                                                   (json_int_t)cnt[t], "bytes", (json_int_t)tb[t]));
    json_object_set_new(o, "tensor_types", types);
    json_object_set_new(o, "tensor_bytes", json_integer((json_int_t)bytes));
    if (m->has_config) {
        int ns = 0, nshared = 0;
        for (int i = 0; i < c->n_layer; i++) ns += c->layers[i].type == G4_LAYER_SLIDING, nshared += c->layers[i].kv_shared;
        json_t *d = json_pack("{s:I, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:b, s:f, s:f, s:f, s:f, s:f, s:b}",
                              "vocab", (json_int_t)c->n_vocab, "n_embd", c->n_embd, "n_layer", c->n_layer,
                              "sliding_layers", ns, "global_layers", c->n_layer - ns, "n_head", c->n_head,
                              "n_head_kv_sliding", c->n_head_kv_swa, "n_head_kv_global", c->n_head_kv_global,
                              "head_dim_sliding", c->head_dim_swa, "head_dim_global", c->head_dim_global, "n_ff", c->n_ff,
                              "k_eq_v", c->k_eq_v, "rope_theta_sliding", (double)c->rope_theta_swa, "rope_theta_global",
                              (double)c->rope_theta_global, "partial_rotary_global", (double)c->partial_rotary_global,
                              "final_logit_softcap", (double)c->final_softcap, "rms_eps", (double)c->rms_eps,
                              "norm_plus_one", c->norm_plus_one);
        json_object_set_new(d, "sliding_window", json_integer(c->sliding_window));
        json_object_set_new(d, "rope_scale_global", json_real(c->rope_scale_global));
        json_object_set_new(d, "kv_shared_layers", json_integer(nshared));
        json_object_set_new(d, "per_layer_embedding", json_integer(c->n_embd_per_layer));
        if (c->n_expert)
            json_object_set_new(d, "moe", json_pack("{s:i, s:i, s:i}", "experts", c->n_expert, "used", c->n_expert_used,
                                                    "expert_ff", c->n_ff_expert));
        json_object_set_new(o, "decoder", d);
        json_object_set_new(o, "context_length", json_integer((json_int_t)c->context_length));
        json_t *mod = json_array();
        json_array_append_new(mod, json_string("text"));
        if (c->vision) json_array_append_new(mod, json_string("vision"));
        if (c->audio) json_array_append_new(mod, json_string("audio"));
        json_object_set_new(o, "modalities", mod);
        if (vision_name(c->vision)) json_object_set_new(o, "vision", json_string(vision_name(c->vision)));
        if (c->audio)
            json_object_set_new(o, "audio",
                                json_string(c->audio == G4_AUDIO_FRAMES ? "640-sample frames" : "conformer encoder"));
        json_t *st = json_object();
        if (c->bos_id >= 0) json_object_set_new(st, "bos", token_json(m, c->bos_id));
        if (c->pad_id >= 0) json_object_set_new(st, "pad", token_json(m, c->pad_id));
        json_t *eos = json_array();
        for (int i = 0; i < c->n_eos; i++) json_array_append_new(eos, token_json(m, c->eos_ids[i]));
        json_object_set_new(st, "eos", eos);
        if (c->n_suppress) {
            json_t *sup = json_array();
            for (int i = 0; i < c->n_suppress; i++) json_array_append_new(sup, token_json(m, c->suppress_ids[i]));
            json_object_set_new(st, "suppress", sup);
        }
        json_object_set_new(o, "special_tokens", st);
        json_object_set_new(o, "generation", json_pack("{s:f, s:i, s:f, s:b}", "temperature", (double)c->temperature,
                                                       "top_k", c->top_k, "top_p", (double)c->top_p, "do_sample",
                                                       c->do_sample));
        if (n_ctx <= 0) n_ctx = G4_MIN((int64_t)DEFAULT_CTX, c->context_length);
        uint64_t kv = g4_config_kv_bytes(c, n_ctx, KV_ELEM_BYTES), packed = 0, plain = 0;
        if (!m->tokenizer_only) repacked_bytes(m, &packed, &plain);
        const uint64_t extra = packed > plain ? packed - plain : 0; /* Q4_K/Q5_K layouts are 2-3% larger */
        json_object_set_new(o, "memory", json_pack("{s:I, s:I, s:I, s:s, s:I, s:I}", "context", (json_int_t)n_ctx,
                                                   "weights_mapped", (json_int_t)mapped, "weights_repacked",
                                                   (json_int_t)packed, "kernels", g4_kernels()->name, "kv_cache_f16",
                                                   (json_int_t)kv, "total", (json_int_t)(mapped + extra + kv)));
    }
    if (m->assistant)
        json_object_set_new(o, "assistant", json_pack("{s:s, s:i, s:i}", "variant", m->assistant->variant, "n_layer",
                                                      m->assistant->n_layer, "n_embd", m->assistant->n_embd));
    if (m->tok) json_object_set_new(o, "tokenizer_vocab", json_integer(g4_tokenizer_n_vocab(m->tok)));
    return o;
}

/* ---- text rendering ---- */

static void human(char *buf, size_t n, double v, const char *unit) {
    static const char *const s[] = {"", "K", "M", "G", "T"};
    int i = 0;
    double d = 1000;
    if (!strcmp(unit, "B")) d = 1024;
    while (v >= d && i < 4) v /= d, i++;
    if (i)
        snprintf(buf, n, "%.2f %s%s", v, s[i], !strcmp(unit, "B") ? "iB" : unit);
    else
        snprintf(buf, n, "%.0f%s%s", v, *unit ? " " : "", unit);
}

static void tok_text(struct g4_strbuf *b, const json_t *t) {
    const json_t *txt = json_object_get(t, "text");
    g4_strbuf_printf(b, "%lld", (long long)json_integer_value(json_object_get(t, "id")));
    if (txt) g4_strbuf_printf(b, " \"%s\"", json_string_value(txt));
}

static void render(struct g4_strbuf *b, const json_t *o) {
    char h1[32], h2[32], h3[32];
    const json_t *v;
    if ((v = json_object_get(o, "variant")))
        g4_strbuf_printf(b, "model:          %s (model_type %s, %s)\n", json_string_value(v),
            json_string_value(json_object_get(o, "model_type")), json_string_value(json_object_get(o, "format")));
    if (json_is_true(json_object_get(o, "tokenizer_only"))) g4_strbuf_printf(b, "model:          tokenizer only\n");
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(o, "files"), i, e) {
        human(h1, sizeof h1, (double)json_integer_value(json_object_get(e, "bytes")), "B");
        g4_strbuf_printf(b, "file:           %s (%s, %s)\n", json_string_value(json_object_get(e, "path")),
            json_string_value(json_object_get(e, "role")), h1);
    }
    const json_t *p = json_object_get(o, "parameters");
    human(h1, sizeof h1, (double)json_integer_value(json_object_get(p, "model")), "");
    g4_strbuf_printf(b, "parameters:     %s", h1);
    if (json_integer_value(json_object_get(p, "mmproj"))) {
        human(h2, sizeof h2, (double)json_integer_value(json_object_get(p, "mmproj")), "");
        g4_strbuf_printf(b, " + %s mmproj", h2);
    }
    if (json_integer_value(json_object_get(p, "assistant"))) {
        human(h2, sizeof h2, (double)json_integer_value(json_object_get(p, "assistant")), "");
        g4_strbuf_printf(b, " + %s assistant", h2);
    }
    g4_strbuf_printf(b, "\n");
    json_array_foreach(json_object_get(o, "tensor_types"), i, e) {
        human(h1, sizeof h1, (double)json_integer_value(json_object_get(e, "bytes")), "B");
        g4_strbuf_printf(b, "%s%-8s %5lld tensors, %s\n", i == 0 ? "tensor types:   " : "                ",
            json_string_value(json_object_get(e, "type")), (long long)json_integer_value(json_object_get(e, "tensors")), h1);
    }
    const json_t *d = json_object_get(o, "decoder");
    if (d) {
#define DI(k) ((long long)json_integer_value(json_object_get(d, k)))
#define DF(k) (json_real_value(json_object_get(d, k)))
        g4_strbuf_printf(b, "decoder:        %lld layers (%lld sliding, %lld global), d=%lld, vocab %lld\n", DI("n_layer"),
            DI("sliding_layers"), DI("global_layers"), DI("n_embd"), DI("vocab"));
        g4_strbuf_printf(b, "attention:      %lld heads; KV heads %lld sliding / %lld global; head dim %lld / %lld%s\n",
            DI("n_head"), DI("n_head_kv_sliding"), DI("n_head_kv_global"), DI("head_dim_sliding"), DI("head_dim_global"),
            json_is_true(json_object_get(d, "k_eq_v")) ? "; K=V on global layers" : "");
        g4_strbuf_printf(b, "                sliding window %lld; RoPE theta %g / %g (global rotary fraction %g)\n",
            DI("sliding_window"), DF("rope_theta_sliding"), DF("rope_theta_global"), DF("partial_rotary_global"));
        if (DF("rope_scale_global") != 1.0) g4_strbuf_printf(b, "                global RoPE linear scaling x%g\n", DF("rope_scale_global"));
        g4_strbuf_printf(b, "mlp:            width %lld", DI("n_ff"));
        const json_t *moe = json_object_get(d, "moe");
        if (moe)
            g4_strbuf_printf(b, "; MoE %lld experts, top-%lld, expert width %lld",
                (long long)json_integer_value(json_object_get(moe, "experts")),
                (long long)json_integer_value(json_object_get(moe, "used")),
                (long long)json_integer_value(json_object_get(moe, "expert_ff")));
        if (DI("per_layer_embedding")) g4_strbuf_printf(b, "; per-layer embeddings %lld", DI("per_layer_embedding"));
        if (DI("kv_shared_layers")) g4_strbuf_printf(b, "; %lld KV-shared layers", DI("kv_shared_layers"));
        g4_strbuf_printf(b, "\nnorms:          RMSNorm eps %g, scale %s; final logit softcap %g\n", DF("rms_eps"),
            json_is_true(json_object_get(d, "norm_plus_one")) ? "1+w" : "w", DF("final_logit_softcap"));
#undef DI
#undef DF
    }
    if ((v = json_object_get(o, "context_length"))) g4_strbuf_printf(b, "context:        %lld tokens\n", (long long)json_integer_value(v));
    if ((v = json_object_get(o, "modalities"))) {
        g4_strbuf_printf(b, "modalities:     ");
        json_array_foreach(v, i, e) g4_strbuf_printf(b, "%s%s", i ? ", " : "", json_string_value(e));
        if (json_object_get(o, "vision")) g4_strbuf_printf(b, " (vision: %s", json_string_value(json_object_get(o, "vision")));
        if (json_object_get(o, "audio"))
            g4_strbuf_printf(b, "%saudio: %s", json_object_get(o, "vision") ? "; " : " (", json_string_value(json_object_get(o, "audio")));
        if (json_object_get(o, "vision") || json_object_get(o, "audio")) g4_strbuf_printf(b, ")");
        g4_strbuf_printf(b, "\n");
    }
    const json_t *st = json_object_get(o, "special_tokens");
    if (st) {
        g4_strbuf_printf(b, "special tokens: ");
        if ((v = json_object_get(st, "bos"))) g4_strbuf_printf(b, "bos "), tok_text(b, v), g4_strbuf_printf(b, "; ");
        g4_strbuf_printf(b, "eos");
        json_array_foreach(json_object_get(st, "eos"), i, e) g4_strbuf_printf(b, "%s", i ? ", " : " "), tok_text(b, e);
        if ((v = json_object_get(st, "pad"))) g4_strbuf_printf(b, "; pad "), tok_text(b, v);
        if ((v = json_object_get(st, "suppress"))) {
            g4_strbuf_printf(b, "; suppressed");
            json_array_foreach(v, i, e) g4_strbuf_printf(b, "%s", i ? ", " : " "), tok_text(b, e);
        }
        g4_strbuf_printf(b, "\n");
    }
    if ((v = json_object_get(o, "tokenizer_vocab"))) g4_strbuf_printf(b, "tokenizer:      %lld tokens\n", (long long)json_integer_value(v));
    else g4_strbuf_printf(b, "tokenizer:      unavailable\n");
    const json_t *g = json_object_get(o, "generation");
    if (g)
        g4_strbuf_printf(b, "generation:     temperature %g, top_k %lld, top_p %g%s\n", json_real_value(json_object_get(g, "temperature")),
            (long long)json_integer_value(json_object_get(g, "top_k")), json_real_value(json_object_get(g, "top_p")),
            json_is_true(json_object_get(g, "do_sample")) ? "" : " (greedy by default)");
    if ((v = json_object_get(o, "assistant")))
        g4_strbuf_printf(b, "assistant:      %s (%lld layers, d=%lld)\n", json_string_value(json_object_get(v, "variant")),
            (long long)json_integer_value(json_object_get(v, "n_layer")),
            (long long)json_integer_value(json_object_get(v, "n_embd")));
    const json_t *mem = json_object_get(o, "memory");
    if (mem) {
        human(h1, sizeof h1, (double)json_integer_value(json_object_get(mem, "weights_mapped")), "B");
        human(h2, sizeof h2, (double)json_integer_value(json_object_get(mem, "kv_cache_f16")), "B");
        human(h3, sizeof h3, (double)json_integer_value(json_object_get(mem, "total")), "B");
        g4_strbuf_printf(b, "memory:         %s mapped weights + %s KV cache (f16, %lld tokens) = %s\n", h1, h2,
            (long long)json_integer_value(json_object_get(mem, "context")), h3);
        const json_int_t rp = json_integer_value(json_object_get(mem, "weights_repacked"));
        if (rp > 0) {
            human(h1, sizeof h1, (double)rp, "B");
            g4_strbuf_printf(b, "                of the weights, %s are repacked at load for the %s kernels (resident\n"
                                "                instead of their mapped pages)\n", h1,
                             json_string_value(json_object_get(mem, "kernels")));
        }
    }
}

g4_status g4_model_info(const g4_model *m, int64_t n_ctx, int as_json, char **out, g4_error *err) {
    if (!m || !out) return g4_fail(err, G4_ERR_INVALID_ARG, "g4_model_info: bad arguments");
    *out = NULL;
    if (n_ctx < 0 || n_ctx > ((int64_t)1 << 24)) return g4_fail(err, G4_ERR_RANGE, "context %lld out of range", (long long)n_ctx);
    json_t *o = build(m, n_ctx);
    if (!o) return g4_fail(err, G4_ERR_NOMEM, "out of memory");
    if (as_json) {
        *out = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(o);
        return *out ? G4_OK : g4_fail(err, G4_ERR_NOMEM, "out of memory");
    }
    struct g4_strbuf b = {0};
    render(&b, o);
    json_decref(o);
    if (b.oom || !b.p) {
        free(b.p);
        return g4_fail(err, G4_ERR_NOMEM, "out of memory");
    }
    *out = b.p;
    return G4_OK;
}

g4_status g4_model_describe(const g4_model *m, char **out, g4_error *err) { return g4_model_info(m, 0, 0, out, err); }
