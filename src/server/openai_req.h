/* openai_req.h — OpenAI request bodies parsed and validated into a plain C
 * struct (chat completions and legacy completions).
 * Contract: g4_oai_req_parse either fills every field with a checked value
 * or returns a 400 g4_api_error whose `param` names the offending field.
 * Unknown fields are ignored; a known field we cannot honour yet (n > 1,
 * suffix, echo) is a
 * 400 naming it, never silently dropped. JSON null means "absent". The
 * parser holds references to the request JSON (messages, tools), so the
 * struct is self-contained until g4_oai_req_free. */
#ifndef G4_SERVER_OPENAI_REQ_H
#define G4_SERVER_OPENAI_REQ_H

#include "server/errors.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define G4_OAI_MAX_STOP 64          /* stop strings per request */
#define G4_OAI_MAX_STOP_LEN 1024    /* bytes per stop string */
#define G4_OAI_MAX_LOGIT_BIAS 1024  /* logit_bias entries */
#define G4_OAI_MAX_MESSAGES 100000
#define G4_OAI_MAX_TOOLS 1024

enum g4_oai_kind { G4_OAI_CHAT = 1, G4_OAI_COMPLETION = 2 };
enum g4_oai_tool_choice { G4_TOOL_AUTO = 0, G4_TOOL_NONE, G4_TOOL_REQUIRED, G4_TOOL_NAMED };
enum g4_oai_format { G4_FMT_TEXT = 0, G4_FMT_JSON_OBJECT, G4_FMT_JSON_SCHEMA };

struct g4_oai_bias {
    int32_t token;
    float bias;
};

struct g4_oai_req {
    enum g4_oai_kind kind;
    char *model;                /* NULL when absent */
    json_t *messages;           /* chat: the messages array (own reference) */
    char *prompt;               /* completion: prompt text, or NULL when given as ids */
    int32_t *prompt_ids;        /* completion: prompt as token ids */
    size_t n_prompt_ids;
    int64_t max_tokens;         /* -1 = not given */
    double temperature;         /* default 1 */
    double top_p;               /* default 1 */
    int32_t top_k;              /* default 0 = off */
    double min_p;               /* default 0 = off */
    double repetition_penalty;  /* extension; default 1 = off */
    bool set_temperature, set_top_p, set_top_k; /* given by the client (else the model's generation config applies) */
    bool has_seed;
    uint64_t seed;
    char **stop;                /* n_stop non-empty strings */
    int n_stop;
    double presence_penalty, frequency_penalty;
    struct g4_oai_bias *logit_bias;
    int n_logit_bias;
    bool stream;
    bool include_usage;
    bool logprobs;              /* chat: per-token log probabilities */
    int top_logprobs;           /* 0..20 alternatives per token */
    json_t *tools;              /* array with >= 1 tool, or NULL */
    enum g4_oai_tool_choice tool_choice;
    char *tool_choice_name;     /* G4_TOOL_NAMED: the function */
    enum g4_oai_format response_format;
    json_t *json_schema;        /* G4_FMT_JSON_SCHEMA: the schema (own reference) */
    bool schema_strict;         /* json_schema.strict */
    bool parallel_tool_calls;   /* default true */
    int thinking;               /* -1 not asked, 0 off, 1 on (reasoning_effort) */
    char *user;
};

/* Parses `body` (already-parsed JSON) as a request of `kind`. n_vocab bounds
 * logit_bias and prompt token ids (0 = unknown: only >= 0 checked).
 * Returns 0 on success, else the HTTP status with *e filled (400). On failure
 * the struct is freed already. */
int g4_oai_req_parse(struct g4_oai_req *r, enum g4_oai_kind kind, const json_t *body, int32_t n_vocab,
                     struct g4_api_error *e);
void g4_oai_req_free(struct g4_oai_req *r);

#endif
