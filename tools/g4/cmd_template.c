/* cmd_template.c — `g4 template`: renders a chat to prompt text.
 * Reads one JSON object from stdin:
 *   {"messages": [...], "tools": [...], "add_generation_prompt": bool, "enable_thinking": bool}
 * and prints the prompt exactly as the official chat template would (no
 * trailing newline is added). `--format gemma3|gemma4` picks the format, or
 * `-m MODEL` takes it from a model (loaded tokenizer-only).
 * jansson only splits the request; rendering is g4_chat_render_format(). */
#include "g4.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f,
            "usage: g4 template (--format gemma3|gemma4 | -m MODEL) < request.json\n"
            "\n"
            "Reads {\"messages\": [...], \"tools\": [...], \"add_generation_prompt\": true,\n"
            "\"enable_thinking\": false} on stdin and prints the rendered prompt.\n"
            "\n"
            "  --format NAME   chat format: gemma3 or gemma4\n"
            "  -m MODEL        use the chat format of a model (GGUF file or HF directory)\n");
}

/* Serialises member `key` of `req` (NULL if absent). */
static char *member(const json_t *req, const char *key) {
    const json_t *v = json_object_get(req, key);
    return v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
}

/* Renders with a named format, or with the chat format of the model at
 * `model_path` (loaded tokenizer-only: no weights are mapped for this). */
static g4_status render(const char *format, const char *model_path, const char *m_json, const char *t_json,
                        const char *o_json, char **out, g4_error *err) {
    if (format) return g4_chat_render_format(format, m_json, t_json, o_json, out, err);
    g4_model_params params = {.tokenizer_only = 1};
    g4_model *m = NULL;
    g4_status st = g4_model_load(&model_path, 1, &params, &m, err);
    if (!st) st = g4_chat_render(m, m_json, t_json, o_json, out, err);
    g4_model_free(m);
    return st;
}

int cmd_chat_render(int argc, char **argv) {
    const char *format = NULL, *model = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--format") && i + 1 < argc) {
            format = argv[++i];
        } else if (!strcmp(argv[i], "-m") && i + 1 < argc) {
            model = argv[++i];
        } else {
            fprintf(stderr, "g4 template: unknown argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (!format == !model) {
        fprintf(stderr, "g4 template: give exactly one of --format and -m\n");
        usage(stderr);
        return 2;
    }

    json_error_t je;
    json_t *req = json_loadf(stdin, 0, &je);
    if (!json_is_object(req)) {
        if (req) fprintf(stderr, "g4 template: stdin must hold a JSON object\n");
        else fprintf(stderr, "g4 template: invalid JSON on stdin (line %d column %d): %s\n", je.line, je.column, je.text);
        json_decref(req);
        return 1;
    }
    const json_t *msgs = json_object_get(req, "messages");
    if (!msgs) {
        fprintf(stderr, "g4 template: the request has no \"messages\"\n");
        json_decref(req);
        return 1;
    }
    json_t *opts = json_object();
    const char *bool_keys[] = {"add_generation_prompt", "enable_thinking"};
    for (size_t i = 0; i < 2; i++) {
        json_t *v = json_object_get(req, bool_keys[i]);
        if (v) json_object_set(opts, bool_keys[i], v);
    }
    char *m_json = member(req, "messages"), *t_json = member(req, "tools");
    char *o_json = json_dumps(opts, JSON_COMPACT);
    char *out = NULL;
    g4_error err = {0};
    int rc = 0;
    if (!m_json || !o_json) {
        fprintf(stderr, "g4 template: out of memory\n");
        rc = 1;
    } else if (render(format, model, m_json, t_json, o_json, &out, &err) != G4_OK) {
        fprintf(stderr, "g4 template: %s\n", err.message);
        rc = 1;
    } else {
        fputs(out, stdout);
    }
    free(out);
    free(m_json);
    free(t_json);
    free(o_json);
    json_decref(opts);
    json_decref(req);
    return rc;
}
