/* tensordir.h — one tensor directory over every file format.
 * Each entry names a tensor as its file spells it, with the element type,
 * the shape (ne[0] innermost: a safetensors/PyTorch shape [a, b] is stored
 * as ne = {b, a}), and a pointer to its data inside a read-only mapping.
 * Lookup by name is O(1) average (open-addressing hash). */
#ifndef G4_IO_TENSORDIR_H
#define G4_IO_TENSORDIR_H

#include "core/status.h"

struct g4_tensor {
    char *name;          /* owned, NUL-terminated */
    uint32_t type;       /* enum g4_type */
    int n_dims;          /* 1..4 */
    int64_t ne[4];       /* ne[0] innermost; unused dims are 1 */
    const void *data;    /* into a mapping owned elsewhere */
    uint64_t nbytes;
    int file;            /* index of the source file in the model's file list */
};

struct g4_tensordir {
    struct g4_tensor *t; /* [n] */
    int n, cap;
    int *slots;          /* hash table of indices into t, -1 = empty */
    int n_slots;
};

void g4_tensordir_init(struct g4_tensordir *d);
void g4_tensordir_free(struct g4_tensordir *d);
/* Adds a copy of *t (the name is duplicated). A duplicate name is a format
 * error. */
g4_status g4_tensordir_add(struct g4_tensordir *d, const struct g4_tensor *t, g4_error *err);
const struct g4_tensor *g4_tensordir_find(const struct g4_tensordir *d, const char *name);
/* Number of elements (product of ne). */
int64_t g4_tensor_nelem(const struct g4_tensor *t);

#endif
