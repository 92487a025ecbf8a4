/* model_impl.h — what a g4_model holds (private to the library).
 * A model is read-only after g4_model_load(): the mapped files, the parsed
 * GGUF headers, the unified tensor directory, the config, the tokenizer and
 * the chat format. Per-sequence state lives elsewhere (contexts).
 * File slots: files[i] is either a GGUF (gguf[i] parsed, maps[i] empty) or a
 * safetensors shard (maps[i] mapped, gguf[i] zeroed); g4_tensor.file indexes
 * them. The main model and its mmproj share `tensors` (their names never
 * collide: blk.* / token_embd vs v.* / mm.* / a.*); an MTP assistant has its
 * own directory and config because its names repeat the target's. */
#ifndef G4_API_MODEL_IMPL_H
#define G4_API_MODEL_IMPL_H

#include "io/gguf.h"
#include "io/tensordir.h"
#include "model/config.h"
#include "tokenizer/chat.h"
#include "tokenizer/tokenizer.h"

#define G4_MAX_FILES 64

enum g4_file_role {
    G4_FILE_MODEL = 0,     /* main model weights (GGUF or safetensors shard) */
    G4_FILE_MMPROJ = 1,    /* multimodal projector GGUF */
    G4_FILE_ASSISTANT = 2, /* MTP drafter (GGUF or safetensors shard) */
};

struct g4_model {
    int n_files;
    char *paths[G4_MAX_FILES];            /* owned */
    uint8_t roles[G4_MAX_FILES];          /* enum g4_file_role */
    struct gguf_file gguf[G4_MAX_FILES];  /* parsed GGUF files (unused slots zeroed) */
    struct g4_mapfile maps[G4_MAX_FILES]; /* safetensors shards */
    struct g4_tensordir tensors;          /* main model (+ mmproj) tensors */
    struct g4_config cfg;                 /* main model config (zeroed when tokenizer_only without config) */
    bool has_config;
    struct g4_tensordir assistant_tensors;
    struct g4_config *assistant;          /* owned; NULL without an assistant */
    struct g4_tokenizer *tok;             /* NULL if the model has no (usable) tokenizer */
    enum g4_chat_format chat_format;
    char *chat_template;                  /* chat_template.jinja text when present (owned) */
    bool tokenizer_only;
};

#endif
