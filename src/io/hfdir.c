/* hfdir.c — Hugging Face model directories (see hfdir.h). The index file is
 * read whole (limit 64 MiB) and parsed with jansson; shard paths are only
 * ever built from validated plain file names inside the directory. */
#include "io/hfdir.h"

#include "core/log.h"
#include "io/safetensors.h"

#include <dirent.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

bool g4_hfdir_shard_name_ok(const char *n) {
    size_t len = strlen(n);
    if (len == 0 || len > 255 || !strcmp(n, ".") || !strcmp(n, "..")) return false;
    if (strchr(n, '/') || strchr(n, '\\') || strstr(n, "..")) return false;
    return len > 12 && !strcmp(n + len - 12, ".safetensors");
}

static char *opt_file(const char *dir, const char *name, g4_status *st, g4_error *err) {
    char *p = g4_path_join(dir, name);
    if (!p) {
        *st = g4_fail(err, G4_ERR_NOMEM, "out of memory");
        return NULL;
    }
    if (!g4_file_exists(p)) {
        free(p);
        return NULL;
    }
    return p;
}

void g4_hfdir_free(struct g4_hfdir *h) {
    if (!h) return;
    free(h->dir);
    free(h->config);
    free(h->generation_config);
    free(h->tokenizer);
    free(h->tokenizer_config);
    free(h->chat_template);
    free(h->index);
    for (int i = 0; i < h->n_shards; i++) free(h->shards[i]);
    memset(h, 0, sizeof *h);
}

bool g4_hfdir_tokenizer_only(const struct g4_hfdir *h) { return h->n_shards == 0; }

static g4_status add_shard(struct g4_hfdir *h, const char *name, g4_error *err) {
    for (int i = 0; i < h->n_shards; i++) {
        const char *b = strrchr(h->shards[i], '/');
        if (!strcmp(b ? b + 1 : h->shards[i], name)) return G4_OK;
    }
    if (h->n_shards >= G4_HF_MAX_SHARDS)
        return g4_fail(err, G4_ERR_RANGE, "%s: more than %d weight shards", h->index, G4_HF_MAX_SHARDS);
    char *p = g4_path_join(h->dir, name);
    if (!p) return g4_fail(err, G4_ERR_NOMEM, "out of memory");
    h->shards[h->n_shards++] = p;
    if (!g4_file_exists(p)) return g4_fail(err, G4_ERR_NOT_FOUND, "%s: shard '%s' listed in the index is missing", h->index, name);
    return G4_OK;
}

/* Reads the weight_map and collects the shard list. Returns the parsed map
 * (caller decrefs) through *map_out when non-NULL. */
static g4_status read_index(struct g4_hfdir *h, json_t **map_out, g4_error *err) {
    char *text = NULL;
    size_t len = 0;
    g4_status st = g4_read_file(h->index, 64ull << 20, &text, &len, err);
    if (st) return st;
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    free(text);
    if (!root) return g4_fail_at(err, G4_ERR_FORMAT, je.position, "%s: not valid JSON: %s", h->index, je.text);
    json_t *map = json_object_get(root, "weight_map");
    if (!json_is_object(map) || json_object_size(map) == 0) {
        json_decref(root);
        return g4_fail(err, G4_ERR_FORMAT, "%s: missing or empty object 'weight_map'", h->index);
    }
    const char *key;
    json_t *v;
    json_object_foreach(map, key, v) {
        if (!json_is_string(v)) {
            st = g4_fail(err, G4_ERR_FORMAT, "%s: weight_map['%.64s'] is not a file name", h->index, key);
            break;
        }
        const char *shard = json_string_value(v);
        if (!g4_hfdir_shard_name_ok(shard)) {
            st = g4_fail(err, G4_ERR_FORMAT, "%s: shard name '%.64s' is not a plain .safetensors file name", h->index,
                         shard);
            break;
        }
        if ((st = add_shard(h, shard, err))) break;
    }
    if (st || !map_out) {
        json_decref(root);
        return st;
    }
    json_incref(map);
    json_decref(root);
    *map_out = map;
    return G4_OK;
}

/* True if the directory holds files named model-*-of-*.safetensors. */
static bool has_shard_files(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return false;
    bool found = false;
    struct dirent *e;
    while (!found && (e = readdir(d))) {
        size_t n = strlen(e->d_name);
        found = !strncmp(e->d_name, "model-", 6) && strstr(e->d_name, "-of-") && n > 12 &&
                !strcmp(e->d_name + n - 12, ".safetensors");
    }
    closedir(d);
    return found;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

g4_status g4_hfdir_open(struct g4_hfdir *h, const char *dir, g4_error *err) {
    memset(h, 0, sizeof *h);
    g4_status st = G4_OK;
    if (!g4_is_dir(dir)) return g4_fail(err, G4_ERR_IO, "%s: not a directory", dir);
    h->dir = strdup(dir);
    if (!h->dir) return g4_fail(err, G4_ERR_NOMEM, "out of memory");
    h->config = opt_file(dir, "config.json", &st, err);
    h->generation_config = opt_file(dir, "generation_config.json", &st, err);
    h->tokenizer = opt_file(dir, "tokenizer.json", &st, err);
    h->tokenizer_config = opt_file(dir, "tokenizer_config.json", &st, err);
    h->chat_template = opt_file(dir, "chat_template.jinja", &st, err);
    h->index = opt_file(dir, "model.safetensors.index.json", &st, err);
    char *single = opt_file(dir, "model.safetensors", &st, err);
    if (st) {
        free(single);
        g4_hfdir_free(h);
        return st;
    }
    if (h->index) {
        if (single) G4_LOGW("%s: both model.safetensors and an index; using the index", dir);
        free(single);
        st = read_index(h, NULL, err);
        if (!st) qsort(h->shards, (size_t)h->n_shards, sizeof h->shards[0], cmp_str);
    } else if (single) {
        h->shards[h->n_shards++] = single;
    } else {
        if (has_shard_files(dir)) {
            st = g4_fail(err, G4_ERR_NOT_FOUND, "%s: sharded weights without model.safetensors.index.json", dir);
        } else if (!h->tokenizer) {
            st = g4_fail(err, G4_ERR_NOT_FOUND, "%s: no model.safetensors, index or tokenizer.json", dir);
        }
    }
    if (!st && h->n_shards && !h->config)
        st = g4_fail(err, G4_ERR_NOT_FOUND, "%s: weights without config.json", dir);
    if (st) g4_hfdir_free(h);
    return st;
}

g4_status g4_hfdir_load(const struct g4_hfdir *h, struct g4_mapfile *maps, int first_file, struct g4_tensordir *d,
                        g4_hfdir_progress_fn progress, void *user, g4_error *err) {
    g4_status st;
    for (int i = 0; i < h->n_shards; i++) {
        if ((st = g4_mapfile_open(&maps[i], h->shards[i], err))) return st;
        st = g4_safetensors_parse(maps[i].data, maps[i].size, h->shards[i], first_file + i, d, err);
        if (st) return st;
        if (progress) progress(i + 1, h->n_shards, user);
    }
    if (!h->index) return G4_OK;
    struct g4_hfdir tmp = *h; /* read_index needs a scratch shard list */
    tmp.n_shards = 0;
    json_t *map = NULL;
    st = read_index(&tmp, &map, err);
    for (int i = 0; i < tmp.n_shards; i++) free(tmp.shards[i]);
    if (st) return st;
    const char *key;
    json_t *v;
    int n_map = 0;
    json_object_foreach(map, key, v) {
        n_map++;
        const struct g4_tensor *t = g4_tensordir_find(d, key);
        if (!t) {
            st = g4_fail(err, G4_ERR_NOT_FOUND, "%s: tensor '%.128s' is not in shard %s", h->index, key,
                         json_string_value(v));
            break;
        }
        if (t->file < first_file || t->file >= first_file + h->n_shards) {
            st = g4_fail(err, G4_ERR_FORMAT, "%s: tensor '%.128s' is not from this directory", h->index, key);
            break;
        }
        const char *shard = h->shards[t->file - first_file];
        const char *b = strrchr(shard, '/');
        if (strcmp(b ? b + 1 : shard, json_string_value(v)) != 0) {
            st = g4_fail(err, G4_ERR_FORMAT, "%s: tensor '%.128s' is in %s, not in %s as the index says", h->index,
                         key, b ? b + 1 : shard, json_string_value(v));
            break;
        }
    }
    json_decref(map);
    if (!st && n_map != d->n)
        G4_LOGW("%s: %d tensors in the shards but %d in the weight_map", h->index, d->n, n_map);
    return st;
}
