/* hfdir.h — a Hugging Face model directory: config.json, the weights
 * (model.safetensors, or shards model-0000N-of-0000M.safetensors listed by
 * model.safetensors.index.json), and the tokenizer / generation / chat
 * template files. A directory with tokenizer files but no weights is a
 * tokenizer-only model. Shard names from the index are validated (no path
 * separators, no "."/".."), and after loading every tensor of the weight_map
 * must be in the shard the map names. */
#ifndef G4_IO_HFDIR_H
#define G4_IO_HFDIR_H

#include "io/mapfile.h"
#include "io/tensordir.h"

#define G4_HF_MAX_SHARDS 48

struct g4_hfdir {
    char *dir;
    /* present files (full paths) or NULL */
    char *config, *generation_config, *tokenizer, *tokenizer_config, *chat_template, *index;
    int n_shards;
    char *shards[G4_HF_MAX_SHARDS]; /* full paths of the safetensors files to load */
};

/* Scans `dir` and, for a sharded model, reads and validates the index.
 * A directory with neither weights nor tokenizer.json is an error. */
g4_status g4_hfdir_open(struct g4_hfdir *h, const char *dir, g4_error *err);
void g4_hfdir_free(struct g4_hfdir *h);
/* True when the directory has no weights (tokenizer-only). */
bool g4_hfdir_tokenizer_only(const struct g4_hfdir *h);
/* Called after each shard is mapped and parsed (done = 1..total). */
typedef void (*g4_hfdir_progress_fn)(int done, int total, void *user);

/* Maps every shard into maps[0..n_shards) and adds its tensors to `d` with
 * .file = first_file + shard index; then checks the index's weight_map
 * against where the tensors were found. The caller closes the maps.
 * `progress` may be NULL. */
g4_status g4_hfdir_load(const struct g4_hfdir *h, struct g4_mapfile *maps, int first_file, struct g4_tensordir *d,
                        g4_hfdir_progress_fn progress, void *user, g4_error *err);

/* Checks a shard name from an index file: plain file name, no separators,
 * not "." or "..", ends in ".safetensors". */
bool g4_hfdir_shard_name_ok(const char *name);

#endif
