/* cmd_run.c — `g4 run`: generate from a prompt, or chat interactively.
 *
 * With -p the prompt is one user turn through the chat template (or, with
 * --raw, the text as is after <bos>, special tokens parsed) and the answer
 * streams to stdout, flushed per token, never splitting a UTF-8 character.
 * Without -p it is a chat: each turn re-renders the whole conversation
 * (chat_tokens.h: template markup trusted, typed text untrusted), keeps the
 * longest prefix already in the KV cache and evaluates only the rest.
 * Ctrl-C stops the current answer (a SIGINT handler sets a flag that the
 * token callback returns); /exit or end of input quits; /clear starts over.
 * Statistics go to stderr at the end of each answer. Exit status: 0, 1 on
 * errors (bad model, prompt longer than the context, ...), 2 on bad usage. */
#include "args.h"
#include "chat_tokens.h"
#include "default_model.h"
#include "g4.h"

#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_BIAS 256
#define MAX_STOP 16

static volatile sig_atomic_t g_interrupted; /* set by SIGINT only */

static void on_sigint(int sig) {
    (void)sig;
    g_interrupted = 1;
}

struct run_opts {
    const char *model, *prompt, *system;
    bool raw, think, ignore_eos, verbose;
    int64_t n_predict, n_ctx;
    int n_threads, n_batch;
    /* sampling overrides: NAN / -1 = the model's default */
    float temp, top_p, min_p, repeat_penalty, presence, frequency;
    int top_k, repeat_last_n;
    uint64_t seed;
    bool have_seed;
    g4_token_bias bias[MAX_BIAS];
    int n_bias;
    const char *stops[MAX_STOP];
    int n_stops;
};

static void usage(FILE *f) {
    fprintf(f,
            "usage: g4 run [-m MODEL] [-p PROMPT] [options]\n"
            "  Without -p: interactive chat (/exit or Ctrl-D quits, /clear forgets, Ctrl-C stops an answer).\n"
            "  -m, --model PATH        GGUF file or model directory (default: $G4_MODEL or the setup model)\n"
            "  -p, --prompt TEXT       generate once from TEXT (one user turn) and exit\n"
            "  --raw                   no chat template: the prompt is raw text after <bos>\n"
            "  --system TEXT           system prompt\n"
            "  --think                 thinking on (Gemma 4)\n"
            "  -n, --n-predict N       max new tokens per answer (default: until a stop / context end)\n"
            "  --ctx N                 context length (default: min(4096, model context))\n"
            "  --batch N               prefill batch (default 256)\n"
            "  --threads N             threads (default: one per CPU)\n"
            "  --temp T --top-k K --top-p P --min-p P   (defaults: the model's generation config)\n"
            "  --repeat-penalty R --repeat-last-n N --presence-penalty P --frequency-penalty F\n"
            "  --logit-bias ID=BIAS    add BIAS to token ID's logit (repeatable; -inf bans it)\n"
            "  --seed N                sampling seed (default 0)\n"
            "  --stop TEXT             stop at TEXT (repeatable)\n"
            "  --ignore-eos            do not stop at the model's end-of-turn tokens\n"
            "  -v, --verbose           print the prompt's token count before generating\n");
}

static int parse_bias(const char *s, g4_token_bias *b) {
    const char *eq = strchr(s, '=');
    if (!eq || eq == s) return 1;
    char idbuf[32];
    size_t n = (size_t)(eq - s);
    if (n >= sizeof idbuf) return 1;
    memcpy(idbuf, s, n);
    idbuf[n] = 0;
    int64_t id;
    if (arg_i64("run", "--logit-bias", idbuf, 0, INT32_MAX, &id)) return 1;
    const char *v = eq + 1;
    if (!strcmp(v, "-inf") || !strcmp(v, "-INF")) b->bias = -INFINITY;
    else if (arg_float("run", "--logit-bias", v, -1e6, 1e6, &b->bias)) return 1;
    b->token = (int32_t)id;
    return 0;
}

static int parse_args(int argc, char **argv, struct run_opts *o) {
    memset(o, 0, sizeof *o);
    o->temp = o->top_p = o->min_p = o->repeat_penalty = o->presence = o->frequency = NAN;
    o->top_k = o->repeat_last_n = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
#define VAL() \
    if (!(v = arg_next("run", argc, argv, &i))) return 2
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return -1;
        } else if (!strcmp(a, "-m") || !strcmp(a, "--model")) {
            VAL();
            o->model = v;
        } else if (!strcmp(a, "-p") || !strcmp(a, "--prompt")) {
            VAL();
            o->prompt = v;
        } else if (!strcmp(a, "--system")) {
            VAL();
            o->system = v;
        } else if (!strcmp(a, "--raw")) o->raw = true;
        else if (!strcmp(a, "--think")) o->think = true;
        else if (!strcmp(a, "--ignore-eos")) o->ignore_eos = true;
        else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) o->verbose = true;
        else if (!strcmp(a, "-n") || !strcmp(a, "--n-predict")) {
            VAL();
            if (arg_i64("run", a, v, -1, INT64_MAX, &o->n_predict)) return 2;
        } else if (!strcmp(a, "--ctx") || !strcmp(a, "-c")) {
            VAL();
            if (arg_i64("run", a, v, 1, (int64_t)1 << 24, &o->n_ctx)) return 2;
        } else if (!strcmp(a, "--batch") || !strcmp(a, "-b")) {
            VAL();
            if (arg_int("run", a, v, 1, 65536, &o->n_batch)) return 2;
        } else if (!strcmp(a, "--threads") || !strcmp(a, "-t")) {
            VAL();
            if (arg_int("run", a, v, 1, 1024, &o->n_threads)) return 2;
        } else if (!strcmp(a, "--temp")) {
            VAL();
            if (arg_float("run", a, v, 0, 100, &o->temp)) return 2;
        } else if (!strcmp(a, "--top-k")) {
            VAL();
            if (arg_int("run", a, v, 0, INT32_MAX, &o->top_k)) return 2;
        } else if (!strcmp(a, "--top-p")) {
            VAL();
            if (arg_float("run", a, v, 0, 1, &o->top_p)) return 2;
        } else if (!strcmp(a, "--min-p")) {
            VAL();
            if (arg_float("run", a, v, 0, 1, &o->min_p)) return 2;
        } else if (!strcmp(a, "--repeat-penalty")) {
            VAL();
            if (arg_float("run", a, v, 1e-6, 100, &o->repeat_penalty)) return 2;
        } else if (!strcmp(a, "--repeat-last-n")) {
            VAL();
            if (arg_int("run", a, v, 0, 1 << 20, &o->repeat_last_n)) return 2;
        } else if (!strcmp(a, "--presence-penalty")) {
            VAL();
            if (arg_float("run", a, v, -100, 100, &o->presence)) return 2;
        } else if (!strcmp(a, "--frequency-penalty")) {
            VAL();
            if (arg_float("run", a, v, -100, 100, &o->frequency)) return 2;
        } else if (!strcmp(a, "--seed")) {
            VAL();
            if (arg_u64("run", a, v, &o->seed)) return 2;
            o->have_seed = true;
        } else if (!strcmp(a, "--logit-bias")) {
            VAL();
            if (o->n_bias == MAX_BIAS) {
                fprintf(stderr, "g4 run: at most %d --logit-bias\n", MAX_BIAS);
                return 2;
            }
            if (parse_bias(v, &o->bias[o->n_bias])) {
                fprintf(stderr, "g4 run: --logit-bias wants ID=BIAS, got '%s'\n", v);
                return 2;
            }
            o->n_bias++;
        } else if (!strcmp(a, "--stop")) {
            VAL();
            if (o->n_stops == MAX_STOP) {
                fprintf(stderr, "g4 run: at most %d --stop\n", MAX_STOP);
                return 2;
            }
            o->stops[o->n_stops++] = v;
        } else {
            fprintf(stderr, "g4 run: unknown option '%s' (see g4 run --help)\n", a);
            return 2;
        }
#undef VAL
    }
    return 0;
}

/* ---- Streaming output ---------------------------------------------------- */

struct out_state {
    int32_t *gen;       /* generated ids of the current answer */
    size_t n_gen, cap_gen;
    char *text;         /* visible answer text (no thinking) */
    size_t n_text, cap_text;
    int32_t th_open, th_close; /* Gemma 4 thinking channel ids, -1 = none */
    bool in_thought;
    bool oom;
};

static void grow_append(void **buf, size_t *n, size_t *cap, const void *p, size_t len, size_t elem, bool *oom) {
    if (*oom || !len) return;
    if (*n + len > *cap) {
        size_t nc = *cap ? *cap : 256;
        while (nc < *n + len) nc *= 2;
        void *q = realloc(*buf, nc * elem);
        if (!q) {
            *oom = true;
            return;
        }
        *buf = q;
        *cap = nc;
    }
    memcpy((char *)*buf + *n * elem, p, len * elem);
    *n += len;
}

static int on_token(int32_t token, const char *text, size_t len, void *user) {
    struct out_state *o = user;
    if (token >= 0) {
        grow_append((void **)&o->gen, &o->n_gen, &o->cap_gen, &token, 1, sizeof token, &o->oom);
        if (token == o->th_open) {
            o->in_thought = true;
            fputs("[thinking]\n", stdout);
        }
    }
    if (len) {
        fwrite(text, 1, len, stdout);
        if (!o->in_thought) grow_append((void **)&o->text, &o->n_text, &o->cap_text, text, len, 1, &o->oom);
    }
    if (token >= 0 && token == o->th_close && o->in_thought) {
        o->in_thought = false;
        fputs("\n[/thinking]\n", stdout);
    }
    fflush(stdout);
    return g_interrupted ? 1 : 0;
}

static void print_stats(const g4_generate_stats *st) {
    static const char *const why[] = {"error", "stop token", "stop string", "max tokens", "context full", "interrupted"};
    fprintf(stderr, "\n[prompt: %lld tokens, %.1f tok/s | generated: %lld tokens, %.1f tok/s | first token: %.0f ms | %s]\n",
            (long long)st->n_prompt, st->prompt_tps, (long long)st->n_gen, st->gen_tps, st->ttft_ms,
            why[st->reason <= G4_STOP_CANCELLED ? st->reason : 0]);
}

/* ---- The command --------------------------------------------------------- */

struct session {
    const struct run_opts *o;
    g4_model *m;
    g4_context *ctx;
    g4_sampler *smp;
    int64_t n_ctx;
    int32_t stop_ids[32];
    int n_stop_ids;
    int32_t *hist;      /* tokens in the context, hist[0..g4_context_pos) */
    size_t n_hist, cap_hist;
};

/* Evaluates the part of `ids` not already in the context and generates.
 * Returns 0, or 1 after printing an error. */
static int answer(struct session *s, const int32_t *ids, size_t n, struct out_state *os) {
    const struct run_opts *o = s->o;
    if ((int64_t)n >= s->n_ctx) {
        fprintf(stderr, "g4 run: the prompt is %zu tokens; the context holds %lld (--ctx)\n", n, (long long)s->n_ctx);
        return 1;
    }
    g4_error err;
    size_t keep = 0;
    while (keep < n && keep < s->n_hist && s->hist[keep] == ids[keep]) keep++;
    if (keep == n) keep = n - 1; /* at least one token to evaluate (its logits) */
    if ((int64_t)keep != g4_context_pos(s->ctx) && g4_context_truncate(s->ctx, (int64_t)keep, &err) != G4_OK) {
        keep = 0; /* a rollback deeper than the window allows: start over */
        if (g4_context_truncate(s->ctx, 0, &err) != G4_OK) {
            fprintf(stderr, "g4 run: %s\n", err.message);
            return 1;
        }
    }
    s->n_hist = keep;
    bool oom = false;
    grow_append((void **)&s->hist, &s->n_hist, &s->cap_hist, ids + keep, n - keep, sizeof *ids, &oom);
    g4_generate_params gp = {
        .max_tokens = o->n_predict > 0 ? o->n_predict : 0,
        .stop_ids = s->stop_ids,
        .n_stop_ids = o->ignore_eos ? 0 : s->n_stop_ids,
        .stop_strings = o->stops,
        .n_stop_strings = o->n_stops,
        .on_token = on_token,
        .user = os,
    };
    if (o->verbose) {
        fprintf(stderr, "[prompt %zu tokens, %zu new:", n, n - keep);
        for (size_t i = keep; i < n; i++) fprintf(stderr, " %d", (int)ids[i]);
        fprintf(stderr, "]\n");
    }
    g_interrupted = 0;
    g4_generate_stats st;
    g4_status rc = g4_generate(s->m, s->ctx, s->smp, ids + keep, n - keep, &gp, &st, &err);
    if (rc != G4_OK) {
        fprintf(stderr, "\ng4 run: %s\n", err.message);
        s->n_hist = 0;
        g4_context_truncate(s->ctx, 0, &err);
        return 1;
    }
    grow_append((void **)&s->hist, &s->n_hist, &s->cap_hist, os->gen, os->n_gen, sizeof *os->gen, &oom);
    if ((int64_t)s->n_hist > g4_context_pos(s->ctx)) s->n_hist = (size_t)g4_context_pos(s->ctx);
    if (oom || os->oom) {
        fprintf(stderr, "g4 run: out of memory\n");
        return 1;
    }
    print_stats(&st);
    return 0;
}

static char *trim_dup(const char *s, size_t n) {
    while (n && strchr(" \t\r\n\v\f", s[0])) s++, n--;
    while (n && strchr(" \t\r\n\v\f", s[n - 1])) n--;
    char *r = malloc(n + 1);
    if (r) {
        memcpy(r, s, n);
        r[n] = 0;
    }
    return r;
}

static int32_t special_id(const g4_model *m, const char *s) {
    int32_t id = -1;
    size_t n = 0;
    g4_error err;
    if (g4_tokenize(m, s, strlen(s), G4_TOK_PARSE_SPECIAL, &id, 1, &n, &err) != G4_OK || n != 1) return -1;
    return id;
}

static int run_once(struct session *s, struct out_state *os) {
    const struct run_opts *o = s->o;
    g4_error err;
    int32_t *ids = NULL;
    size_t n = 0, cap = 0;
    g4_status st;
    if (o->raw) {
        st = tokens_append(s->m, o->prompt, strlen(o->prompt), G4_TOK_PARSE_SPECIAL | G4_TOK_ADD_BOS, &ids, &n, &cap,
                           &err);
    } else {
        char *sys = o->system ? trim_dup(o->system, strlen(o->system)) : NULL;
        char *user = trim_dup(o->prompt, strlen(o->prompt));
        struct chat_msg msgs[2];
        size_t k = 0;
        if (sys) msgs[k++] = (struct chat_msg){"system", sys};
        msgs[k++] = (struct chat_msg){"user", user ? user : ""};
        st = chat_tokens(s->m, msgs, k, o->think, &ids, &n, &err);
        free(sys);
        free(user);
    }
    if (st != G4_OK) {
        fprintf(stderr, "g4 run: %s\n", err.message);
        free(ids);
        return 1;
    }
    int rc = answer(s, ids, n, os);
    if (rc == 0 && isatty(STDOUT_FILENO)) fputs("\n", stdout);
    if (rc == 0 && g_interrupted) rc = 130;
    free(ids);
    return rc;
}

static int run_chat(struct session *s, struct out_state *os) {
    const struct run_opts *o = s->o;
    struct chat_msg *msgs = NULL;
    size_t n_msgs = 0, cap_msgs = 0;
    char *line = NULL;
    size_t line_cap = 0;
    int rc = 0;
    bool oom = false;
    if (o->system) {
        struct chat_msg sm = {"system", trim_dup(o->system, strlen(o->system))};
        grow_append((void **)&msgs, &n_msgs, &cap_msgs, &sm, 1, sizeof sm, &oom);
    }
    size_t n_fixed = n_msgs;
    fprintf(stderr, "Chat. /exit or Ctrl-D quits, /clear forgets the conversation, Ctrl-C stops an answer.\n");
    for (;;) {
        fputs("> ", stdout);
        fflush(stdout);
        g_interrupted = 0;
        ssize_t len = getline(&line, &line_cap, stdin);
        if (len < 0) {
            if (g_interrupted && !feof(stdin)) {
                clearerr(stdin);
                fputs("\n(/exit or Ctrl-D quits)\n", stderr);
                continue;
            }
            fputs("\n", stdout);
            break;
        }
        char *text = trim_dup(line, (size_t)len);
        if (!text) {
            rc = 1;
            break;
        }
        if (!strcmp(text, "/exit") || !strcmp(text, "/quit")) {
            free(text);
            break;
        }
        if (!strcmp(text, "/clear")) {
            free(text);
            for (size_t i = n_fixed; i < n_msgs; i++) free((char *)msgs[i].content);
            n_msgs = n_fixed;
            fprintf(stderr, "(conversation cleared)\n");
            continue;
        }
        if (!*text) {
            free(text);
            continue;
        }
        struct chat_msg um = {"user", text};
        grow_append((void **)&msgs, &n_msgs, &cap_msgs, &um, 1, sizeof um, &oom);
        if (oom) {
            free(text);
            rc = 1;
            break;
        }
        int32_t *ids = NULL;
        size_t n = 0;
        g4_error err;
        if (chat_tokens(s->m, msgs, n_msgs, o->think, &ids, &n, &err) != G4_OK) {
            fprintf(stderr, "g4 run: %s\n", err.message);
            free((char *)msgs[--n_msgs].content);
            continue;
        }
        os->n_gen = os->n_text = 0;
        os->in_thought = false;
        int r = answer(s, ids, n, os);
        free(ids);
        if (r != 0) { /* e.g. the conversation outgrew the context: drop the turn */
            free((char *)msgs[--n_msgs].content);
            if ((int64_t)n >= s->n_ctx) fprintf(stderr, "(the conversation is full: /clear starts a new one)\n");
            continue;
        }
        struct chat_msg am = {"assistant", trim_dup(os->text ? os->text : "", os->n_text)};
        grow_append((void **)&msgs, &n_msgs, &cap_msgs, &am, 1, sizeof am, &oom);
        if (oom || !am.content) {
            rc = 1;
            break;
        }
    }
    for (size_t i = 0; i < n_msgs; i++) free((char *)msgs[i].content);
    free(msgs);
    free(line);
    return rc;
}

int cmd_run(int argc, char **argv) {
    struct run_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc) return rc < 0 ? 0 : rc;
    if (o.raw && !o.prompt) {
        fprintf(stderr, "g4 run: --raw needs -p PROMPT\n");
        return 2;
    }
    struct session s = {.o = &o};
    if (cli_model_load("run", o.model, &s.m)) return 1;
    g4_error err;
    s.n_ctx = o.n_ctx;
    if (!s.n_ctx) {
        s.n_ctx = 4096;
        int64_t mc = g4_model_context_length(s.m);
        if (mc > 0 && mc < s.n_ctx) s.n_ctx = mc;
    }
    g4_context_params cp = {.n_ctx = s.n_ctx, .n_batch = o.n_batch, .n_threads = o.n_threads};
    g4_sampling_params sp;
    g4_model_default_sampling(s.m, &sp);
    if (!isnan(o.temp)) sp.temperature = o.temp;
    if (o.top_k >= 0) sp.top_k = o.top_k;
    if (!isnan(o.top_p)) sp.top_p = o.top_p;
    if (!isnan(o.min_p)) sp.min_p = o.min_p;
    if (!isnan(o.repeat_penalty)) sp.repeat_penalty = o.repeat_penalty;
    if (o.repeat_last_n >= 0) sp.repeat_last_n = o.repeat_last_n;
    if (!isnan(o.presence)) sp.presence_penalty = o.presence;
    if (!isnan(o.frequency)) sp.frequency_penalty = o.frequency;
    if (o.have_seed) sp.seed = o.seed;
    sp.logit_bias = o.bias;
    sp.n_logit_bias = o.n_bias;
    struct out_state os = {.th_open = -1, .th_close = -1};
    rc = 1;
    if (g4_context_new(s.m, &cp, &s.ctx, &err) != G4_OK || g4_sampler_new(s.m, &sp, &s.smp, &err) != G4_OK) {
        fprintf(stderr, "g4 run: %s\n", err.message);
        goto done;
    }
    s.n_stop_ids = g4_model_stop_ids(s.m, s.stop_ids, 32);
    if (s.n_stop_ids > 32) s.n_stop_ids = 32;
    if (o.think) {
        os.th_open = special_id(s.m, "<|channel>");
        os.th_close = special_id(s.m, "<channel|>");
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL); /* no SA_RESTART: Ctrl-C at the chat prompt interrupts getline */
    rc = o.prompt ? run_once(&s, &os) : run_chat(&s, &os);
done:
    free(os.gen);
    free(os.text);
    free(s.hist);
    g4_sampler_free(s.smp);
    g4_context_free(s.ctx);
    g4_model_free(s.m);
    return rc;
}
