#pragma once
// DEEPLAB_SIMD_CLONES before a hot loop's function asks GCC for an AVX2 + FMA
// copy besides the baseline one, chosen at run time by the CPU (function
// multi-versioning): the build stays runnable on any x86-64, and machines
// with AVX2 get 8-wide vectors.  Elsewhere it is empty.
//
// The clone is named by ISA level (x86-64-v3: AVX2, FMA, BMI2), which the
// resolver tests with __builtin_cpu_supports.  An "arch=haswell" clone is
// chosen only when __builtin_cpu_is("haswell"), i.e. on that one CPU
// generation: on this project's Sapphire Rapids machines the baseline SSE2
// copy ran (checked with gdb on both clones).  GCC 11 and older do not know
// the ISA levels there; they get an "avx2" clone (FMA stays off).

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && __GNUC__ >= 12
#define DEEPLAB_SIMD_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#elif defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define DEEPLAB_SIMD_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define DEEPLAB_SIMD_CLONES
#endif
