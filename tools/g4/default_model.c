/* default_model.c — default model path and the CLI's model loading (see
 * default_model.h). Paths longer than the buffer are an error, never
 * truncated silently. */
#include "default_model.h"
#include "progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

const char *default_model_path(char *buf, size_t cap) {
    const char *env = getenv("G4_MODEL");
    int n;
    if (env && *env) n = snprintf(buf, cap, "%s", env);
    else {
        const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
        if (xdg && *xdg) n = snprintf(buf, cap, "%s/g4/gemma-3-270m-q4_k_m.gguf", xdg);
        else if (home && *home) n = snprintf(buf, cap, "%s/.cache/g4/gemma-3-270m-q4_k_m.gguf", home);
        else return NULL;
    }
    return n < 0 || (size_t)n >= cap ? NULL : buf;
}

int cli_model_load(const char *cmd, const char *path, g4_model **out) {
    char buf[4096];
    *out = NULL;
    if (!path) {
        path = default_model_path(buf, sizeof buf);
        struct stat sb;
        if (!path) {
            fprintf(stderr, "g4 %s: no model given (-m MODEL) and no default model path (set G4_MODEL or HOME)\n", cmd);
            return 1;
        }
        if (stat(path, &sb) != 0) {
            fprintf(stderr,
                    "g4 %s: no model given (-m MODEL) and the default model %s is missing:\n"
                    "  run scripts/setup.sh to download it, or set G4_MODEL\n",
                    cmd, path);
            return 1;
        }
    }
    struct progress pr;
    progress_init(&pr, "loading");
    g4_model_params mp = {.progress = progress_fn, .progress_user = &pr};
    g4_error err;
    const char *paths[1] = {path};
    g4_status st = g4_model_load(paths, 1, &mp, out, &err);
    progress_done(&pr);
    if (st != G4_OK) {
        fprintf(stderr, "g4 %s: %s: %s\n", cmd, path, err.message);
        return 1;
    }
    return 0;
}
