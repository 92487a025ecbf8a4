/* model_impl.h — what a g4_model holds (private to the library).
 * A model is read-only after g4_model_load(): the mapped files, the parsed
 * GGUF headers, the unified tensor directory, the config, the tokenizer and
 * the chat format. Per-sequence state lives elsewhere (contexts). */
#ifndef G4_API_MODEL_IMPL_H
#define G4_API_MODEL_IMPL_H

#include "io/gguf.h"
#include "io/tensordir.h"
#include "tokenizer/chat.h"
#include "tokenizer/tokenizer.h"

#define G4_MAX_FILES 16

struct g4_model {
    int n_files;
    char *paths[G4_MAX_FILES];         /* owned */
    struct gguf_file gguf[G4_MAX_FILES]; /* parsed GGUF files (unused slots zeroed) */
    struct g4_mapfile maps[G4_MAX_FILES]; /* safetensors shards */
    struct g4_tensordir tensors;
    struct g4_tokenizer *tok;          /* NULL if the model has no tokenizer */
    enum g4_chat_format chat_format;
    bool tokenizer_only;
};

#endif
