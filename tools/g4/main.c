/* main.c — the g4 command-line tool: dispatches to subcommands.
 * Each subcommand lives in its own cmd_*.c and uses only include/g4.h.
 * Subcommands are declared weak so the tool links while some are absent. */
#include "g4.h"

#include <stdio.h>
#include <string.h>

#define WEAK __attribute__((weak))
int cmd_info(int argc, char **argv) WEAK;
int cmd_tokenize(int argc, char **argv) WEAK;
int cmd_run(int argc, char **argv) WEAK;
int cmd_serve(int argc, char **argv) WEAK;
int cmd_bench(int argc, char **argv) WEAK;
int cmd_perplexity(int argc, char **argv) WEAK;
int cmd_eval(int argc, char **argv) WEAK;
int cmd_chat_render(int argc, char **argv) WEAK;

static const struct {
    const char *name;
    const char *help;
} cmds[] = {
    {"run", "generate text or chat with a model"},
    {"serve", "OpenAI-compatible HTTP server"},
    {"info", "describe model files"},
    {"tokenize", "text to token ids (and back with --decode)"},
    {"template", "render a chat (JSON messages on stdin) to prompt text"},
    {"bench", "prefill/decode speed"},
    {"perplexity", "perplexity over a text file"},
    {"eval", "raw logits for token ids"},
};

static int (*lookup(const char *name))(int, char **) {
    if (!strcmp(name, "run")) return cmd_run;
    if (!strcmp(name, "serve")) return cmd_serve;
    if (!strcmp(name, "info")) return cmd_info;
    if (!strcmp(name, "tokenize")) return cmd_tokenize;
    if (!strcmp(name, "template")) return cmd_chat_render;
    if (!strcmp(name, "bench")) return cmd_bench;
    if (!strcmp(name, "perplexity")) return cmd_perplexity;
    if (!strcmp(name, "eval")) return cmd_eval;
    return NULL;
}

static void usage(FILE *f) {
    fprintf(f, "g4 %s — local inference for Gemma 4 and Gemma 3\n\nusage: g4 COMMAND [options]\n\n", g4_version());
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        int (*fn)(int, char **) = lookup(cmds[i].name);
        fprintf(f, "  %-11s %s%s\n", cmds[i].name, cmds[i].help, fn ? "" : " (not built)");
    }
    fprintf(f, "\nRun 'g4 COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("g4 %s\n", g4_version());
        return 0;
    }
    int (*fn)(int, char **) = lookup(argv[1]);
    if (!fn) {
        fprintf(stderr, "g4: unknown or unavailable command '%s'\n", argv[1]);
        usage(stderr);
        return 2;
    }
    return fn(argc - 1, argv + 1);
}
