/* chat_json.h — Python/Jinja value semantics over jansson values, for the
 * native chat-template renderers (chat_gemma3.c, chat_gemma4.c).
 * A jinja2 template sees JSON as Python values; these helpers reproduce what
 * the templates do with them: truthiness, str()/repr() (incl. Python's float
 * repr), str.strip() whitespace, str.upper(), `dictsort` (case-insensitive,
 * stable) and subscripting, where a NULL json_t* stands for jinja2's
 * Undefined. Output goes to a growable buffer whose allocation failure is
 * sticky (checked once at the end). Private to src/tokenizer/. */
#ifndef G4_TOKENIZER_CHAT_JSON_H
#define G4_TOKENIZER_CHAT_JSON_H

#include "core/status.h"
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/strbuf.h"

/* Recursion limit for nested JSON in templates (jinja2 itself fails on
 * Python's recursion limit well before JSON's own depth limit). */
#define G4_CHAT_MAX_DEPTH 64


/* jinja2 truthiness; NULL (Undefined) and JSON null are false. */
bool g4_py_truthy(const json_t *v);
/* jinja2 `x is sequence`: strings, arrays, objects and Undefined. */
bool g4_py_is_sequence(const json_t *v);
/* `v[key]` in a jinja2 sandbox: an object's member, else Undefined (NULL). */
json_t *g4_py_getitem(const json_t *v, const char *key);
/* Whether `v` is a string equal to `s`. */
bool g4_py_streq(const json_t *v, const char *s);

/* Appends str(v) ("" for Undefined, "None", "True", Python float repr,
 * Python repr of lists and dicts). */
void g4_py_str(struct g4_strbuf *b, const json_t *v);
/* Appends Python's float repr of d (finite). */
void g4_py_float(struct g4_strbuf *b, double d);

/* Python str.strip(): the [*start, *end) range of s[0..n) without leading
 * and trailing Unicode whitespace. */
void g4_py_strip(const char *s, size_t n, size_t *start, size_t *end);
/* Appends str(v).strip(). */
void g4_py_str_trim(struct g4_strbuf *b, const json_t *v);
/* Appends str(v).upper(); fails (G4_ERR_UNSUPPORTED) on non-ASCII text,
 * whose Unicode case mapping is not reproduced. */
g4_status g4_py_str_upper(struct g4_strbuf *b, const json_t *v, g4_error *err);

/* `obj | dictsort`: keys of an object sorted the way jinja2 does (by
 * key.lower(), stable). *keys is malloc'd (free it); *n its length. Fails
 * if `obj` is not an object (the template would raise). */
g4_status g4_py_dictsort(const json_t *obj, const char ***keys, size_t *n, g4_error *err);

/* `for x in v`: the items a jinja2 for-loop visits, as a new JSON array:
 * a string yields its code points (as strings), an array its elements, an
 * object its keys, Undefined nothing; numbers, booleans and None raise
 * (G4_ERR_INVALID_ARG) as in Python. `what` names the value in errors. */
g4_status g4_py_iter_items(const json_t *v, const char *what, json_t **items, g4_error *err);

#endif
