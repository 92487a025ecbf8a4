/* mapfile.h — read-only memory-mapped files.
 * A g4_mapfile owns one mmap of a whole file (or nothing for an empty file).
 * Data stays valid until g4_mapfile_close(). */
#ifndef G4_IO_MAPFILE_H
#define G4_IO_MAPFILE_H

#include "core/status.h"

struct g4_mapfile {
    char *path;          /* owned copy of the path, for error messages */
    const uint8_t *data; /* [size] bytes, read-only; NULL when size == 0 */
    uint64_t size;
};

/* Maps `path` read-only. Errors name the path. */
g4_status g4_mapfile_open(struct g4_mapfile *f, const char *path, g4_error *err);
void g4_mapfile_close(struct g4_mapfile *f);

/* Reads a whole (small) file into a NUL-terminated malloc'd buffer; refuses
 * files larger than max_bytes. */
g4_status g4_read_file(const char *path, uint64_t max_bytes, char **out, size_t *out_len, g4_error *err);

/* Joins dir and name with '/' into a malloc'd string (NULL on OOM). */
char *g4_path_join(const char *dir, const char *name);
bool g4_is_dir(const char *path);
bool g4_file_exists(const char *path);

#endif
