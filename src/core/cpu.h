/* cpu.h — CPU feature detection, done once at start-up.
 * g4_cpu_features() reads cpuid (via the compiler's __builtin_cpu_supports on
 * x86) and returns a plain struct; it holds no state and is thread-safe.
 * On non-x86 hosts every x86 flag is false. */
#ifndef G4_CORE_CPU_H
#define G4_CORE_CPU_H

#include <stdbool.h>

struct g4_cpu_features {
    bool avx2;      /* AVX2 integer + float 256-bit */
    bool fma;       /* FMA3 */
    bool f16c;      /* vcvtph2ps / vcvtps2ph */
    bool avx512f;   /* AVX-512 foundation */
    bool avx512bw;
    bool avx512vnni;
    bool neon;      /* aarch64 Advanced SIMD (always true there) */
};

/* Features of the CPU this process runs on. */
struct g4_cpu_features g4_cpu_features(void);

/* Number of online logical CPUs (at least 1). */
int g4_cpu_count(void);

#endif
