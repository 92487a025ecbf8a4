/* cpu.h — CPU feature detection, done once at start-up.
 * g4_cpu_features() reads cpuid (via the compiler's __builtin_cpu_supports on
 * x86) or the kernel's HWCAP bits (getauxval on aarch64) and returns a plain
 * struct; it holds no state and is thread-safe. Flags of the other
 * architecture are false. */
#ifndef G4_CORE_CPU_H
#define G4_CORE_CPU_H

#include <stdbool.h>

struct g4_cpu_features {
    bool avx2;      /* AVX2 integer + float 256-bit */
    bool fma;       /* FMA3 */
    bool f16c;      /* vcvtph2ps / vcvtps2ph */
    bool avx512f;   /* AVX-512 foundation */
    bool avx512bw;  /* byte/word ops (vpmaddubsw, vpabsb on zmm) */
    bool avx512vl;  /* the AVX-512 forms on xmm/ymm */
    bool avx512vnni;/* vpdpbusd */
    bool neon;      /* aarch64 Advanced SIMD (always true there) */
    bool neon_dotprod; /* aarch64 SDOT/UDOT (ARMv8.2 dotprod, HWCAP_ASIMDDP) */
};

/* Features of the CPU this process runs on. */
struct g4_cpu_features g4_cpu_features(void);

/* Number of online logical CPUs (at least 1). */
int g4_cpu_count(void);

#endif
