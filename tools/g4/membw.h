/* membw.h — STREAM-style measurement of the machine's memory read bandwidth.
 * A buffer much larger than the last-level cache is split into n_threads
 * contiguous slices; all threads start together (a go flag) and each sums its
 * slice; the wall time from release to the last thread's end gives GB/s
 * (1e9 bytes). The best of `reps` passes is reported, as STREAM does. A
 * tool-side utility of `g4 bench` (not part of the library). */
#ifndef G4_TOOLS_MEMBW_H
#define G4_TOOLS_MEMBW_H
#include <stddef.h>

/* Returns the read bandwidth in GB/s with n_threads threads over a buffer of
 * `bytes` (rounded down to 4 KiB per thread; 0 = 512 MiB), best of `reps`
 * (>= 1) passes; a negative value if memory or threads are unavailable. */
double membw_read_gbps(int n_threads, size_t bytes, int reps);

#endif
