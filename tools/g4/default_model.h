/* default_model.h — which model a command uses, and loading it for the CLI.
 * The default model is $G4_MODEL if set, else
 * ${XDG_CACHE_HOME:-~/.cache}/g4/gemma-3-270m-q4_k_m.gguf (what
 * scripts/setup.sh downloads). cli_model_load prints every error itself
 * (a missing default model says to run scripts/setup.sh) and shows the
 * loading progress bar on a terminal. */
#ifndef G4_TOOLS_DEFAULT_MODEL_H
#define G4_TOOLS_DEFAULT_MODEL_H

#include "g4.h"

#include <stddef.h>

/* Writes the default model path to buf; returns buf, or NULL if it does not
 * fit or no home directory is known. */
const char *default_model_path(char *buf, size_t cap);

/* Loads `path` (NULL = the default model). Returns 0 on success, else prints
 * "g4 CMD: message" on stderr and returns 1. */
int cli_model_load(const char *cmd, const char *path, g4_model **out);

#endif
