/* cpu.c — CPU feature detection (cpuid through __builtin_cpu_supports on
 * x86, getauxval(AT_HWCAP) on aarch64) and the online CPU count. Stateless:
 * every call re-reads the answer. */
#include "core/cpu.h"

#include <unistd.h>
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif

struct g4_cpu_features g4_cpu_features(void) {
    struct g4_cpu_features f = {0};
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    f.avx2 = __builtin_cpu_supports("avx2");
    f.fma = __builtin_cpu_supports("fma");
    f.avx512f = __builtin_cpu_supports("avx512f");
    f.avx512bw = __builtin_cpu_supports("avx512bw");
    f.avx512vl = __builtin_cpu_supports("avx512vl");
    f.avx512vnni = __builtin_cpu_supports("avx512vnni");
    /* F16C has no __builtin_cpu_supports name in older gcc/clang; every CPU
     * with AVX2 (Haswell, Zen and later) has it, so it follows AVX2. */
    f.f16c = f.avx2;
#elif defined(__aarch64__)
    f.neon = true;
#if defined(__linux__)
    /* HWCAP_ASIMDDP is bit 20 of AT_HWCAP (asm/hwcap.h); spelled out so
     * older libc headers without the name still build */
    f.neon_dotprod = (getauxval(AT_HWCAP) & (1UL << 20)) != 0;
#endif
#endif
    return f;
}

int g4_cpu_count(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}
