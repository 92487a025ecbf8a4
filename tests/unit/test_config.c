/* test_config.c — config.json parsing against what transformers itself reads
 * from the same files (g4_expect.json written by scripts/gen_hf_fixtures.py
 * from AutoConfig + the instantiated modules: per-layer type, head dim, KV
 * heads, K=V, KV sharing, MLP width, RoPE, generation defaults), real-size
 * configs (variant labels, KV-cache bytes from spec 2.8), and malformed or
 * absurd configs. */
#include "io/gguf.h"
#include "model/config.h"
#include "test.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static struct g4_config cfg; /* large: keep off the stack */

static g4_status load_dir(const char *dir, struct g4_config *c, g4_error *e) {
    char p[256], g[256];
    snprintf(p, sizeof p, "tests/fixtures/hf/%s/config.json", dir);
    snprintf(g, sizeof g, "tests/fixtures/hf/%s/generation_config.json", dir);
    size_t n = 0, gn = 0;
    char *cj = test_read_file(p, &n), *gj = test_read_file(g, &gn);
    if (!cj) {
        free(gj);
        return G4_ERR_IO;
    }
    g4_status s = g4_config_from_hf_json(c, cj, n, gj, gn, p, e);
    free(cj);
    free(gj);
    return s;
}

static bool close_rel(double a, double b) { return fabs(a - b) <= 1e-6 * fmax(1.0, fabs(b)); }

/* Compares the config of `dir` (or of the GGUF converted from it, when
 * gguf_path is set) with what transformers read from `dir`. */
static void check_expect(const char *dir, const char *gguf_path) {
    char p[256];
    snprintf(p, sizeof p, "tests/fixtures/hf/%s/g4_expect.json", dir);
    json_t *x = json_load_file(p, 0, NULL);
    CHECKF(x, "%s unreadable", p);
    if (!x) return;
    g4_error e;
    g4_status s;
    if (gguf_path) {
        struct gguf_file g;
        s = gguf_open(&g, gguf_path, &e);
        if (!s) {
            s = g4_config_from_gguf(&cfg, &g, &e);
            gguf_close(&g);
        }
    } else {
        s = load_dir(dir, &cfg, &e);
    }
    CHECKF(s == G4_OK, "%s: %s", dir, e.message);
    if (s) {
        json_decref(x);
        return;
    }
#define XI(k) json_integer_value(json_object_get(x, k))
#define XF(k) json_number_value(json_object_get(x, k))
    if (!gguf_path)
        CHECKF(strcmp(cfg.model_type, json_string_value(json_object_get(x, "model_type"))) == 0, "%s model_type", dir);
    CHECKF(cfg.n_layer == XI("n_layer"), "%s n_layer %d", dir, cfg.n_layer);
    CHECKF(cfg.n_embd == XI("n_embd"), "%s n_embd", dir);
    CHECKF(cfg.n_vocab == XI("n_vocab"), "%s n_vocab", dir);
    CHECKF(cfg.n_head == XI("n_head"), "%s n_head", dir);
    CHECKF(cfg.sliding_window == XI("sliding_window"), "%s sliding_window %d", dir, cfg.sliding_window);
    CHECKF(cfg.context_length == XI("context_length"), "%s context", dir);
    CHECKF(close_rel(cfg.rms_eps, XF("rms_eps")), "%s rms_eps", dir);
    CHECKF(close_rel(cfg.final_softcap, XF("final_softcap")), "%s softcap %g", dir, cfg.final_softcap);
    json_t *rope = json_object_get(x, "rope");
    json_t *rf = json_object_get(rope, "full_attention"), *rs = json_object_get(rope, "sliding_attention");
    CHECKF(close_rel(cfg.rope_theta_global, json_number_value(json_object_get(rf, "rope_theta"))), "%s theta global", dir);
    CHECKF(close_rel(cfg.rope_theta_swa, json_number_value(json_object_get(rs, "rope_theta"))), "%s theta swa", dir);
    json_t *f = json_object_get(rf, "factor");
    CHECKF(close_rel(cfg.rope_scale_global, f ? json_number_value(f) : 1.0), "%s rope factor %g", dir, cfg.rope_scale_global);
    json_t *prf = json_object_get(rf, "partial_rotary_factor");
    CHECKF(close_rel(cfg.partial_rotary_global, prf ? json_number_value(prf) : 1.0), "%s partial %g", dir,
           cfg.partial_rotary_global);
    bool g4 = strstr(cfg.model_type, "gemma4") != NULL;
    CHECK(cfg.source == (gguf_path ? G4_SRC_GGUF : G4_SRC_HF));
    CHECK(cfg.arch == (g4 ? G4_ARCH_GEMMA4 : G4_ARCH_GEMMA3));
    CHECK(cfg.norm_plus_one == (!g4 && !gguf_path));
    if (g4) {
        CHECKF(cfg.n_kv_shared_layers == XI("n_kv_shared_layers"), "%s kv shared %d", dir, cfg.n_kv_shared_layers);
        CHECKF(cfg.n_embd_per_layer == XI("n_embd_per_layer"), "%s PLE", dir);
        CHECKF(cfg.n_expert == XI("n_expert") && cfg.n_expert_used == XI("n_expert_used") &&
                   cfg.n_ff_expert == XI("n_ff_expert"),
               "%s MoE", dir);
        CHECK(cfg.attn_scale == 1.0f);
    } else {
        CHECKF(close_rel(cfg.query_pre_attn_scalar, XF("query_pre_attn_scalar")), "%s qpas", dir);
    }
    if (json_object_get(x, "backbone_hidden")) {
        CHECK(cfg.is_assistant && cfg.backbone_hidden == XI("backbone_hidden"));
    }
    json_t *layers = json_object_get(x, "layers");
    CHECK(json_array_size(layers) == (size_t)cfg.n_layer);
    for (int i = 0; i < cfg.n_layer && i < (int)json_array_size(layers); i++) {
        json_t *l = json_array_get(layers, (size_t)i);
        const struct g4_layer_config *L = &cfg.layers[i];
        bool glob = !strcmp(json_string_value(json_object_get(l, "type")), "global");
        CHECKF(L->type == (glob ? G4_LAYER_GLOBAL : G4_LAYER_SLIDING), "%s layer %d type", dir, i);
        CHECKF(L->head_dim == json_integer_value(json_object_get(l, "head_dim")), "%s layer %d head_dim %d", dir, i,
               L->head_dim);
        CHECKF(L->n_head_kv == json_integer_value(json_object_get(l, "n_head_kv")), "%s layer %d kv heads %d", dir, i,
               L->n_head_kv);
        CHECKF(L->n_ff == json_integer_value(json_object_get(l, "n_ff")), "%s layer %d n_ff %d", dir, i, L->n_ff);
        if (g4) {
            CHECKF(L->k_eq_v == json_is_true(json_object_get(l, "k_eq_v")), "%s layer %d k_eq_v", dir, i);
            CHECKF(L->kv_shared == json_is_true(json_object_get(l, "kv_shared")), "%s layer %d kv_shared", dir, i);
            CHECKF(L->kv_source == json_integer_value(json_object_get(l, "kv_source")), "%s layer %d kv_source %d", dir,
                   i, L->kv_source);
        } else {
            CHECKF(close_rel(L->kv_source, i), "%s layer %d", dir, i);
            CHECKF(close_rel(cfg.attn_scale, json_number_value(json_object_get(l, "scaling"))), "%s scaling", dir);
        }
    }
    json_t *gen = gguf_path ? NULL : json_object_get(x, "generation");
    if (gen) {
        json_t *eos = json_object_get(gen, "eos");
        CHECKF(cfg.n_eos == (int)json_array_size(eos), "%s n_eos %d", dir, cfg.n_eos);
        for (int i = 0; i < cfg.n_eos && i < (int)json_array_size(eos); i++)
            CHECK(cfg.eos_ids[i] == json_integer_value(json_array_get(eos, (size_t)i)));
        CHECK(close_rel(cfg.temperature, json_number_value(json_object_get(gen, "temperature"))));
        CHECK(close_rel(cfg.top_p, json_number_value(json_object_get(gen, "top_p"))));
        CHECK(cfg.top_k == json_integer_value(json_object_get(gen, "top_k")));
        json_t *sup = json_object_get(gen, "suppress");
        CHECK(cfg.n_suppress == (int)json_array_size(sup));
        for (int i = 0; i < cfg.n_suppress && i < (int)json_array_size(sup); i++)
            CHECK(cfg.suppress_ids[i] == json_integer_value(json_array_get(sup, (size_t)i)));
    }
#undef XI
#undef XF
    json_decref(x);
}

static void check_against_expect(const char *dir) { check_expect(dir, NULL); }

/* GGUFs converted from the HF fixtures with llama.cpp's Gemma 4 key names must give the same config. */
static void test_gguf_gemma4(void) {
    check_expect("gemma4_text", "tests/fixtures/hf/gguf/gemma4_text.gguf");
    CHECK(cfg.double_wide_mlp && cfg.n_vocab_per_layer == 64 && cfg.partial_rotary_global == 0.25f);
    CHECK(!cfg.bidirectional_vision && cfg.kind == G4_KIND_GEMMA4_TEXT);
    check_expect("gemma4", "tests/fixtures/hf/gguf/gemma4_moe.gguf");
    CHECK(cfg.k_eq_v && cfg.bidirectional_vision && cfg.n_head_kv_global == 1 && cfg.head_dim_global == 16);
    g4_error e;
    struct gguf_file g;
    CHECK(gguf_open(&g, "tests/fixtures/gguf/../hf/st/basic.safetensors", &e) != G4_OK);
}

static void test_fixture_gemma3_text(void) { check_against_expect("gemma3_text"); }
static void test_fixture_gemma3(void) {
    check_against_expect("gemma3");
    CHECK(cfg.vision == G4_VISION_SIGLIP && cfg.image_id == 62 && cfg.boi_id == 60);
}
static void test_fixture_gemma4_text(void) {
    check_against_expect("gemma4_text");
    CHECK(cfg.double_wide_mlp && cfg.n_vocab_per_layer == 64);
}
static void test_fixture_gemma4(void) {
    check_against_expect("gemma4");
    CHECK(cfg.k_eq_v && cfg.vision == G4_VISION_VIT && cfg.audio == G4_AUDIO_NONE && cfg.bidirectional_vision);
}
static void test_fixture_gemma4_unified(void) {
    check_against_expect("gemma4_unified");
    CHECK(cfg.kind == G4_KIND_GEMMA4_UNIFIED && cfg.vision == G4_VISION_UNIFIED && cfg.audio == G4_AUDIO_FRAMES);
    CHECK(cfg.audio_hidden == 8 && cfg.vision_hidden == 16 && cfg.eoa_id == 58 && cfg.eoi_id == 61);
    CHECK(cfg.bidirectional_vision);
}
static void test_fixture_assistants(void) {
    check_against_expect("gemma4_assistant");
    CHECK(cfg.ordered_embeddings && cfg.n_centroids == 8 && cfg.centroid_top_k == 2);
    CHECK(cfg.layers[0].kv_source == -1 && cfg.layers[1].kv_source == -1);
    CHECK(g4_config_kv_bytes(&cfg, 1000, 2) == 0);
    check_against_expect("gemma4_unified_assistant");
    CHECK(cfg.kind == G4_KIND_GEMMA4_UNIFIED_ASSISTANT && cfg.layers[1].k_eq_v);
}

/* The 12B as the converter writes it (spec 1.2 / 2.8): variant, layer pattern, KV bytes. */
static const char *cfg_12b =
    "{\"model_type\":\"gemma4_unified\",\"text_config\":{\"model_type\":\"gemma4_unified_text\","
    "\"hidden_size\":3840,\"intermediate_size\":15360,\"num_hidden_layers\":48,\"num_attention_heads\":16,"
    "\"num_key_value_heads\":8,\"head_dim\":256,\"global_head_dim\":512,\"num_global_key_value_heads\":1,"
    "\"attention_k_eq_v\":true,\"sliding_window\":1024,\"final_logit_softcapping\":30.0,\"vocab_size\":262144},"
    "\"vision_config\":{\"model_type\":\"gemma4_unified_vision\"},\"audio_config\":{}}";

static void test_real_sizes(void) {
    g4_error e;
    CHECK(g4_config_from_hf_json(&cfg, cfg_12b, strlen(cfg_12b), NULL, 0, "12b", &e) == G4_OK);
    CHECKF(strcmp(cfg.variant, "gemma4 12B unified") == 0, "variant %s", cfg.variant);
    CHECK(cfg.layers[5].type == G4_LAYER_GLOBAL && cfg.layers[4].type == G4_LAYER_SLIDING);
    CHECK(cfg.layers[47].type == G4_LAYER_GLOBAL && cfg.layers[47].head_dim == 512 && cfg.layers[47].n_head_kv == 1);
    CHECK(cfg.layers[47].k_eq_v && !cfg.layers[46].k_eq_v && cfg.layers[46].n_head_kv == 8);
    CHECK(cfg.layers[47].n_rot == 128 && cfg.layers[47].rope_proportional && cfg.layers[46].n_rot == 256);
    CHECK(cfg.context_length == 262144 && cfg.vision == G4_VISION_UNIFIED && cfg.vision_posemb == 1120);
    /* spec 2.8: 8 KB per token per sliding layer (last 1024 only), 2 KB per token per global layer */
    uint64_t want = 40ull * 1024 * 8192 + 8ull * 4096 * 2048;
    CHECK(g4_config_kv_bytes(&cfg, 4096, 2) == want);
    CHECK(g4_config_kv_bytes(&cfg, 262144, 2) == 40ull * 1024 * 8192 + 8ull * 262144 * 2048);
    /* Gemma 3 270M (its config.json) */
    const char *g3 = "{\"model_type\":\"gemma3_text\",\"hidden_size\":640,\"intermediate_size\":2048,"
                     "\"num_hidden_layers\":18,\"num_attention_heads\":4,\"num_key_value_heads\":1,\"head_dim\":256,"
                     "\"sliding_window\":512,\"vocab_size\":262144,\"max_position_embeddings\":32768,"
                     "\"query_pre_attn_scalar\":256,\"rope_theta\":1000000.0,\"rope_local_base_freq\":10000.0,"
                     "\"rope_scaling\":null,\"_sliding_window_pattern\":6}";
    CHECK(g4_config_from_hf_json(&cfg, g3, strlen(g3), NULL, 0, "270m", &e) == G4_OK);
    CHECKF(strcmp(cfg.variant, "gemma3 270M") == 0, "variant %s", cfg.variant);
    CHECK(cfg.attn_scale == 1.0f / 16.0f && cfg.norm_plus_one && cfg.layers[5].type == G4_LAYER_GLOBAL);
    CHECK(g4_config_kv_bytes(&cfg, 4096, 2) == 15ull * 512 * 1024 + 3ull * 4096 * 1024);
}

/* Mutates the gemma3_text fixture config: sets key (in text) to the JSON value. */
static g4_status mutate(const char *dir, const char *key, const char *value, g4_error *e) {
    char p[256];
    snprintf(p, sizeof p, "tests/fixtures/hf/%s/config.json", dir);
    json_t *root = json_load_file(p, 0, NULL);
    json_t *text = json_object_get(root, "text_config");
    if (!text) text = root;
    if (value)
        json_object_set_new(text, key, json_loads(value, JSON_DECODE_ANY, NULL));
    else
        json_object_del(text, key);
    char *s = json_dumps(root, 0);
    g4_status st = g4_config_from_hf_json(&cfg, s, strlen(s), NULL, 0, "mutated", e);
    free(s);
    json_decref(root);
    return st;
}

static void test_bad_configs(void) {
    g4_error e;
    const char *bad[] = {"", "{", "[]", "{\"model_type\":3}", "{}", "null", "{\"a\":1,\"a\":2}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        g4_status s = g4_config_from_hf_json(&cfg, bad[i], strlen(bad[i]), NULL, 0, "bad", &e);
        CHECKF(s == G4_ERR_FORMAT || s == G4_ERR_NOT_FOUND, "'%s' gave %d", bad[i], s);
    }
    CHECK(g4_config_from_hf_json(&cfg, "{\"model_type\":\"llama\"}", 22, NULL, 0, "x", &e) == G4_ERR_UNSUPPORTED);
    CHECK(strstr(e.message, "llama") != NULL);
    CHECK(g4_config_from_hf_json(&cfg, "{\"model_type\":\"gemma4\"}", 23, NULL, 0, "x", &e) == G4_ERR_NOT_FOUND);
    CHECK(mutate("gemma3_text", "hidden_size", NULL, &e) == G4_ERR_NOT_FOUND);
    CHECK(strstr(e.message, "hidden_size") != NULL);
    CHECK(mutate("gemma3_text", "num_hidden_layers", "100000", &e) == G4_ERR_RANGE);
    CHECK(mutate("gemma3_text", "num_hidden_layers", "0", &e) == G4_ERR_RANGE);
    CHECK(mutate("gemma3_text", "hidden_size", "-5", &e) == G4_ERR_RANGE);
    CHECK(mutate("gemma3_text", "hidden_size", "1e9", &e) == G4_ERR_FORMAT);
    CHECK(mutate("gemma3_text", "hidden_size", "\"16\"", &e) == G4_ERR_FORMAT);
    CHECK(mutate("gemma3_text", "vocab_size", "1000000000000", &e) == G4_ERR_RANGE);
    CHECK(mutate("gemma3_text", "head_dim", "7", &e) == G4_ERR_RANGE);
    CHECK(mutate("gemma3_text", "num_key_value_heads", "3", &e) == G4_ERR_RANGE);
    CHECK(mutate("gemma3_text", "rms_norm_eps", "-1", &e) == G4_ERR_RANGE);
    CHECK(mutate("gemma3_text", "sliding_window", "0", &e) == G4_ERR_RANGE);
    CHECK(mutate("gemma3_text", "layer_types", "[\"sliding_attention\"]", &e) == G4_ERR_FORMAT);
    CHECK(mutate("gemma3_text", "layer_types", "[1,2,3,4,5,6]", &e) == G4_ERR_FORMAT);
    CHECK(mutate("gemma3_text", "eos_token_id", "[1, 99]", &e) == G4_ERR_RANGE);
    CHECK(mutate("gemma3_text", "rope_scaling", "{\"rope_type\":\"yarn\",\"factor\":2}", &e) == G4_ERR_UNSUPPORTED);
    CHECK(mutate("gemma3_text", "rope_parameters", NULL, &e) == G4_OK);
    CHECK(mutate("gemma3_text", "rope_parameters", "{\"full_attention\":{\"rope_type\":\"dynamic\"}}", &e) ==
          G4_ERR_UNSUPPORTED);
    CHECK(mutate("gemma3_text", "hidden_activation", "\"silu\"", &e) == G4_ERR_UNSUPPORTED);
    CHECK(mutate("gemma4_text", "num_kv_shared_layers", "6", &e) == G4_ERR_FORMAT); /* no global layer left to share */
    CHECK(mutate("gemma4_text", "per_layer_config", "{\"9\":{\"head_dim\":16}}", &e) == G4_ERR_FORMAT);
    CHECK(mutate("gemma4", "enable_moe_block", "true", &e) == G4_OK);
    CHECK(mutate("gemma4", "num_experts", NULL, &e) == G4_ERR_NOT_FOUND);
    CHECK(mutate("gemma4", "top_k_experts", "9", &e) == G4_ERR_RANGE);
    CHECK(mutate("gemma4", "use_bidirectional_attention", "\"all\"", &e) == G4_ERR_UNSUPPORTED);
    /* generation_config.json */
    size_t n;
    char *cj = test_read_file("tests/fixtures/hf/gemma3_text/config.json", &n);
    CHECK(g4_config_from_hf_json(&cfg, cj, n, "{oops", 5, "x", &e) == G4_ERR_FORMAT);
    CHECK(g4_config_from_hf_json(&cfg, cj, n, "{\"suppress_tokens\":[-1]}", 24, "x", &e) == G4_ERR_FORMAT);
    CHECK(g4_config_from_hf_json(&cfg, cj, n, "{\"top_p\":2}", 11, "x", &e) == G4_ERR_RANGE);
    CHECK(g4_config_from_hf_json(&cfg, cj, n, "{\"eos_token_id\":[1,2,3,4,5,6,7,8,9]}", 36, "x", &e) == G4_ERR_FORMAT);
    CHECK(g4_config_from_hf_json(&cfg, cj, n, "{\"eos_token_id\":7,\"top_k\":5}", 28, "x", &e) == G4_OK);
    CHECK(cfg.n_eos == 1 && cfg.eos_ids[0] == 7 && cfg.top_k == 5);
    free(cj);
}

int main(void) {
    RUN(test_fixture_gemma3_text);
    RUN(test_fixture_gemma3);
    RUN(test_fixture_gemma4_text);
    RUN(test_fixture_gemma4);
    RUN(test_fixture_gemma4_unified);
    RUN(test_fixture_assistants);
    RUN(test_real_sizes);
    RUN(test_gguf_gemma4);
    RUN(test_bad_configs);
    return test_done();
}
