/* test_hfdir.c — Hugging Face directories: single file vs shards + index
 * (every weight_map tensor found in the shard it names), tokenizer-only
 * detection, and hostile indexes (missing shard, "../" or "/" in a shard
 * name, a tensor in the wrong shard, a tensor in no shard, shards without an
 * index, weights without config.json). Bad directories are built under
 * /tmp from symlinks to the committed fixtures. */
#include "io/hfdir.h"
#include "test.h"

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FIX "tests/fixtures/hf/"

static void count_progress(int done, int total, void *user) {
    int *n = user;
    if (done == *n + 1 && total == 5) (*n)++;
}

static void test_single_and_sharded(void) {
    int n_progress = 0;
    struct g4_hfdir h;
    g4_error e;
    CHECK(g4_hfdir_open(&h, FIX "gemma3_text", &e) == G4_OK);
    CHECK(h.n_shards == 1 && h.config && h.generation_config && !h.index && !h.tokenizer);
    CHECK(!g4_hfdir_tokenizer_only(&h));
    g4_hfdir_free(&h);

    CHECK(g4_hfdir_open(&h, FIX "gemma3", &e) == G4_OK);
    CHECK(h.n_shards == 5 && h.index);
    for (int i = 1; i < h.n_shards; i++) CHECK(strcmp(h.shards[i - 1], h.shards[i]) < 0);
    struct g4_mapfile maps[G4_HF_MAX_SHARDS] = {{0}};
    struct g4_tensordir d;
    g4_tensordir_init(&d);
    CHECKF(g4_hfdir_load(&h, maps, 2, &d, count_progress, &n_progress, &e) == G4_OK, "%s", e.message);
    CHECK(n_progress == 5);
    json_t *idx = json_load_file(FIX "gemma3/model.safetensors.index.json", 0, NULL);
    json_t *wm = json_object_get(idx, "weight_map");
    CHECK(json_object_size(wm) == (size_t)d.n && d.n > 0);
    const char *k;
    json_t *v;
    json_object_foreach(wm, k, v) {
        const struct g4_tensor *t = g4_tensordir_find(&d, k);
        CHECKF(t && strstr(h.shards[t->file - 2], json_string_value(v)), "%s", k);
    }
    json_decref(idx);
    g4_tensordir_free(&d);
    for (int i = 0; i < h.n_shards; i++) g4_mapfile_close(&maps[i]);
    g4_hfdir_free(&h);

    CHECK(g4_hfdir_open(&h, FIX "tok_only", &e) == G4_OK);
    CHECK(g4_hfdir_tokenizer_only(&h) && h.tokenizer && !h.config);
    g4_hfdir_free(&h);
    CHECK(g4_hfdir_open(&h, FIX "st", &e) == G4_ERR_NOT_FOUND);
    CHECK(g4_hfdir_open(&h, FIX "nonexistent", &e) == G4_ERR_IO);
    CHECK(g4_hfdir_open(&h, FIX "st/basic.json", &e) == G4_ERR_IO);
}

static void test_shard_names(void) {
    CHECK(g4_hfdir_shard_name_ok("model-00001-of-00002.safetensors"));
    CHECK(!g4_hfdir_shard_name_ok("../model.safetensors"));
    CHECK(!g4_hfdir_shard_name_ok("sub/model.safetensors"));
    CHECK(!g4_hfdir_shard_name_ok("/etc/passwd.safetensors"));
    CHECK(!g4_hfdir_shard_name_ok("a\\b.safetensors"));
    CHECK(!g4_hfdir_shard_name_ok(".."));
    CHECK(!g4_hfdir_shard_name_ok(""));
    CHECK(!g4_hfdir_shard_name_ok("model.bin"));
    CHECK(!g4_hfdir_shard_name_ok(".safetensors"));
}

/* A scratch directory with config.json + every shard of gemma3 linked in,
 * and `index` written as model.safetensors.index.json (NULL: none). */
static char scratch[64];
static void make_dir(const char *index, bool with_config) {
    snprintf(scratch, sizeof scratch, "/tmp/g4_hfdir_XXXXXX");
    if (!mkdtemp(scratch)) return;
    char src[PATH_MAX], dst[PATH_MAX + 64];
    const char *files[] = {"model-00001-of-00005.safetensors", "model-00002-of-00005.safetensors",
                           "model-00003-of-00005.safetensors", "model-00004-of-00005.safetensors",
                           "model-00005-of-00005.safetensors", "config.json"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        if (i == 5 && !with_config) continue;
        char rel[256];
        snprintf(rel, sizeof rel, FIX "gemma3/%s", files[i]);
        if (!realpath(rel, src)) continue;
        snprintf(dst, sizeof dst, "%s/%s", scratch, files[i]);
        if (symlink(src, dst) != 0) perror("symlink");
    }
    if (index) {
        snprintf(dst, sizeof dst, "%s/model.safetensors.index.json", scratch);
        FILE *f = fopen(dst, "w");
        fputs(index, f);
        fclose(f);
    }
}
static void rm_dir(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", scratch);
    if (system(cmd) != 0) perror("rm");
}

/* Loads the scratch directory; returns the first failing status. */
static g4_status try_load(g4_error *e) {
    struct g4_hfdir h;
    g4_status s = g4_hfdir_open(&h, scratch, e);
    if (s) return s;
    struct g4_mapfile maps[G4_HF_MAX_SHARDS] = {{0}};
    struct g4_tensordir d;
    g4_tensordir_init(&d);
    s = g4_hfdir_load(&h, maps, 0, &d, NULL, NULL, e);
    g4_tensordir_free(&d);
    for (int i = 0; i < h.n_shards; i++) g4_mapfile_close(&maps[i]);
    g4_hfdir_free(&h);
    return s;
}

/* The real index with one substitution applied to its text. */
static char *index_with(const char *from, const char *to) {
    size_t n;
    char *t = test_read_file(FIX "gemma3/model.safetensors.index.json", &n);
    if (!from) return t;
    char *p = strstr(t, from);
    if (!p) return t;
    char *out = malloc(n + strlen(to) + 1);
    size_t a = (size_t)(p - t);
    memcpy(out, t, a);
    strcpy(out + a, to);
    strcat(out, p + strlen(from));
    free(t);
    return out;
}

static void test_bad_indexes(void) {
    g4_error e;
    char *ix = index_with(NULL, NULL);
    make_dir(ix, true);
    CHECKF(try_load(&e) == G4_OK, "%s", e.message);
    rm_dir();
    free(ix);

    ix = index_with("model-00005-of-00005.safetensors", "model-00009-of-00009.safetensors");
    make_dir(ix, true);
    CHECK(try_load(&e) == G4_ERR_NOT_FOUND && strstr(e.message, "missing"));
    rm_dir();
    free(ix);

    ix = index_with("\"model-00005-of-00005.safetensors\"", "\"../model-00005-of-00005.safetensors\"");
    make_dir(ix, true);
    CHECK(try_load(&e) == G4_ERR_FORMAT && strstr(e.message, "plain"));
    rm_dir();
    free(ix);

    ix = index_with("\"model-00005-of-00005.safetensors\"", "\"x/model-00005-of-00005.safetensors\"");
    make_dir(ix, true);
    CHECK(try_load(&e) == G4_ERR_FORMAT);
    rm_dir();
    free(ix);

    /* first entry of the map moved to a shard that does not hold it */
    json_t *j = json_load_file(FIX "gemma3/model.safetensors.index.json", 0, NULL);
    json_t *wm = json_object_get(j, "weight_map");
    const char *k;
    json_t *v;
    json_object_foreach(wm, k, v) {
        const char *s = json_string_value(v);
        json_object_set_new(wm, k, json_string(strcmp(s, "model-00001-of-00005.safetensors")
                                                   ? "model-00001-of-00005.safetensors"
                                                   : "model-00002-of-00005.safetensors"));
        break;
    }
    char *txt = json_dumps(j, 0);
    make_dir(txt, true);
    CHECK(try_load(&e) == G4_ERR_FORMAT && strstr(e.message, "as the index says"));
    rm_dir();
    free(txt);
    /* a tensor in no shard */
    json_decref(j);
    j = json_load_file(FIX "gemma3/model.safetensors.index.json", 0, NULL);
    json_object_set_new(json_object_get(j, "weight_map"), "ghost.weight", json_string("model-00001-of-00005.safetensors"));
    txt = json_dumps(j, 0);
    make_dir(txt, true);
    CHECK(try_load(&e) == G4_ERR_NOT_FOUND && strstr(e.message, "ghost"));
    rm_dir();
    free(txt);
    json_decref(j);

    make_dir("{\"weight_map\": []}", true);
    CHECK(try_load(&e) == G4_ERR_FORMAT);
    rm_dir();
    make_dir("not json", true);
    CHECK(try_load(&e) == G4_ERR_FORMAT);
    rm_dir();
    make_dir("{\"weight_map\": {\"a\": 5}}", true);
    CHECK(try_load(&e) == G4_ERR_FORMAT);
    rm_dir();
    /* shards but no index */
    make_dir(NULL, true);
    CHECK(try_load(&e) == G4_ERR_NOT_FOUND && strstr(e.message, "without model.safetensors.index.json"));
    rm_dir();
    /* weights without config.json */
    ix = index_with(NULL, NULL);
    make_dir(ix, false);
    CHECK(try_load(&e) == G4_ERR_NOT_FOUND && strstr(e.message, "config.json"));
    rm_dir();
    free(ix);
}

int main(void) {
    RUN(test_single_and_sharded);
    RUN(test_shard_names);
    RUN(test_bad_indexes);
    return test_done();
}
