#pragma once
// DEEPLAB_SIMD_CLONES before a hot loop's function asks GCC for an AVX2 + FMA
// copy besides the baseline one, chosen at run time by the CPU (function
// multi-versioning): the build stays runnable on any x86-64, and machines
// with AVX2 get 8-wide vectors.  Elsewhere it is empty.

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define DEEPLAB_SIMD_CLONES __attribute__((target_clones("arch=haswell", "default")))
#else
#define DEEPLAB_SIMD_CLONES
#endif
