#pragma once
// Per-row kernels of the permutohedral lattice and the dense CRF, on rows of
// channels padded to a multiple of kLanes floats.  A kernel takes its
// channel count twice: as a template argument kC when it is one of the
// common padded widths (then every loop has a fixed trip count of whole
// 8-float vectors, which GCC unrolls and vectorises without remainder code),
// or kC = 0 and the run-time `c`.  They are always inlined, so that they
// take the instruction set of the DEEPLAB_SIMD_CLONES function they run in;
// that function picks kC with a plain switch (a lambda's body would be
// compiled for the baseline target).

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

namespace deeplab::postprocess::kernels {

/// Row padding: one AVX2 vector of floats.
constexpr int64_t kLanes = 8;

constexpr int64_t padded_channels(int64_t c) { return (c + kLanes - 1) / kLanes * kLanes; }

// Eight floats as one value (GCC vector extension): one ymm register in an
// AVX2 clone, two xmm in the baseline one.  Written out because GCC's own
// vectoriser, given a runtime corner loop around a 24-float row loop,
// unrolled the corners and left the row loop scalar (seen in the profile).
using Vec = float __attribute__((vector_size(kLanes * sizeof(float))));
using IntVec = int32_t __attribute__((vector_size(kLanes * sizeof(int32_t))));

[[gnu::always_inline]] inline Vec load(const float* p) {
  Vec v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
[[gnu::always_inline]] inline void store(float* p, Vec v) { std::memcpy(p, &v, sizeof v); }
// (No broadcast(float) helper: a run-time scalar multiplies a vector
// directly, x * v, which is one vbroadcastss.  Vec{} + x also added the zero
// (for x = -0) before broadcasting; callgrind put 42 instructions per pixel
// and iteration of the dense CRF's mean field on that helper.)

/// Every lane: the sum of all lanes of x (three shuffle-and-add steps).
[[gnu::always_inline]] inline Vec lane_sum(Vec x) {
  x += __builtin_shuffle(x, IntVec{4, 5, 6, 7, 0, 1, 2, 3});
  x += __builtin_shuffle(x, IntVec{2, 3, 0, 1, 6, 7, 4, 5});
  return x + __builtin_shuffle(x, IntVec{1, 0, 3, 2, 5, 4, 7, 6});
}

/// exp(x) lane-wise, within 2.6e-7 relative for x in [-87, 88] (clamped to
/// that range; measured against double exp on a 1.3e-5 grid): e^x = 2^n e^f
/// with n = round(x log2 e), 2^n from the exponent bits and e^f, |f| <=
/// ln(2) / 2, from its degree-6 Taylor polynomial.  Adding 1.5 * 2^23 leaves
/// n in the low mantissa bits (no conversions between float and int), and
/// f = x - n ln 2 takes ln 2 in two parts (Cody & Waite: n times the first,
/// short part is exact), where computing f from x log2 e lost its rounding
/// error times n (1.4e-6 at x = -80).  Written on vectors: GCC, vectorising
/// the scalar form, evaluated the polynomial on the unclamped x and blended
/// in the clamped results afterwards (nine instructions per vector for the
/// two clamps, where these take four).
[[gnu::always_inline]] inline Vec exp_clamped(Vec x) {
  const Vec low = Vec{} - 87.0f, high = Vec{} + 88.0f;  // constants: folded
  x = x < low ? low : x;
  x = x > high ? high : x;
  constexpr float kRound = 12582912.0f;  // 1.5 * 2^23
  const Vec shifted = x * 1.44269504f + kRound;
  const Vec n = shifted - kRound;
  const Vec f = x - n * 0.693359375f - n * -2.12194440e-4f;
  const Vec p = 1.0f + f * (1.0f + f * (0.5f + f * (1.0f / 6 + f * (1.0f / 24 + f * (1.0f / 120 + f * (1.0f / 720))))));
  // The low bits of `shifted` are n + 2^22, whose bits above the exponent
  // field the shift drops.
  return p * reinterpret_cast<Vec>((reinterpret_cast<IntVec>(shifted) << 23) + (127 << 23));
}

template <int64_t kC>
[[gnu::always_inline]] inline int64_t width(int64_t c) {
  return kC > 0 ? kC : c;
}

/// y += a x over a row.
template <int64_t kC>
[[gnu::always_inline]] inline void axpy(float a, const float* x, float* y, int64_t c) {
  if constexpr (kC >= kLanes) {
    for (int64_t k = 0; k < kC; k += kLanes) store(y + k, load(y + k) + a * load(x + k));
  } else {
    for (int64_t k = 0; k < c; ++k) y[k] += a * x[k];
  }
}

/// out = base + a x + b y over a row.
template <int64_t kC>
[[gnu::always_inline]] inline void combine(const float* base, float a, const float* x, float b, const float* y,
                                           float* out, int64_t c) {
  if constexpr (kC >= kLanes) {
    for (int64_t k = 0; k < kC; k += kLanes) store(out + k, load(base + k) + a * load(x + k) + b * load(y + k));
  } else {
    for (int64_t k = 0; k < c; ++k) out[k] = base[k] + a * x[k] + b * y[k];
  }
}

/// dst[i] = sum_t taps[t] * sources[t][i] for i < n (n a multiple of kLanes),
/// summed in tap order.  kCount > 0: that many taps, their weights
/// broadcast into registers once, so each vector costs kCount
/// multiply-adds and a store, where the general loop reloads each tap's
/// weight and row pointer per block (the dense CRF's spatial filter, 7 taps
/// for its standard deviation of 1: 2-3 % of the CRF's time, measured A/B);
/// kCount = 0: `count` taps, four vectors at a time.
template <int kCount = 0>
[[gnu::always_inline]] inline void weighted_sum(const float* const* sources, const float* taps, int count, int64_t n,
                                                float* dst) {
  if constexpr (kCount > 0) {
    float weight[kCount];
    const float* row[kCount];
    for (int t = 0; t < kCount; ++t) {
      weight[t] = taps[t];
      row[t] = sources[t];
    }
    for (int64_t i = 0; i < n; i += kLanes) {
      Vec a{};
      for (int t = 0; t < kCount; ++t) a += weight[t] * load(row[t] + i);
      store(dst + i, a);
    }
    return;
  }
  constexpr int64_t kBlock = 4 * kLanes;
  int64_t i = 0;
  for (; i + kBlock <= n; i += kBlock) {
    Vec a0{}, a1{}, a2{}, a3{};
    for (int t = 0; t < count; ++t) {
      const float w = taps[t];
      const float* src = sources[t] + i;
      a0 += w * load(src);
      a1 += w * load(src + kLanes);
      a2 += w * load(src + 2 * kLanes);
      a3 += w * load(src + 3 * kLanes);
    }
    store(dst + i, a0);
    store(dst + i + kLanes, a1);
    store(dst + i + 2 * kLanes, a2);
    store(dst + i + 3 * kLanes, a3);
  }
  for (; i < n; i += kLanes) {
    Vec a{};
    for (int t = 0; t < count; ++t) a += taps[t] * load(sources[t] + i);
    store(dst + i, a);
  }
}

/// One point's corners: out = sum_r weight[r] * values[vertex[r]] (the slice).
template <int64_t kC, int kK = 0>
[[gnu::always_inline]] inline void gather_corners(const float* values, const int32_t* vertex, const float* weight,
                                                  int run_time_corners, float* out, int64_t c) {
  const int corners = kK > 0 ? kK : run_time_corners;
  if constexpr (kC >= kLanes) {
    Vec acc[kC / kLanes] = {};  // in registers: three for 21 labels
    for (int r = 0; r < corners; ++r) {
      const float* row = values + static_cast<int64_t>(vertex[r]) * kC;
      const float w = weight[r];
      for (int64_t j = 0; j < kC / kLanes; ++j) acc[j] += w * load(row + j * kLanes);
    }
    for (int64_t j = 0; j < kC / kLanes; ++j) store(out + j * kLanes, acc[j]);
  } else {
    std::fill(out, out + c, 0.0f);
    for (int r = 0; r < corners; ++r) axpy<kC>(weight[r], values + static_cast<int64_t>(vertex[r]) * c, out, c);
  }
}

/// Asks for the corner rows of a pixel that comes later: read from
/// `gather_from`, read and written in `scatter_to`.
template <int64_t kC, int kK = 0>
[[gnu::always_inline]] inline void prefetch_corners(const float* gather_from, const float* scatter_to,
                                                    const int32_t* vertex, int run_time_corners, int64_t c) {
  const int corners = kK > 0 ? kK : run_time_corners;
  const int64_t n = width<kC>(c);
  for (int r = 0; r < corners; ++r) {
    const int64_t row = static_cast<int64_t>(vertex[r]) * n;
    for (int64_t k = 0; k < n; k += 16) {  // one 64-byte line per 16 floats
      __builtin_prefetch(gather_from + row + k, 0);
      __builtin_prefetch(scatter_to + row + k, 1);
    }
  }
}

/// values[vertex[r]] += scale * weight[r] * in, for every corner r (the
/// splat); a corner whose bit is set in `first` starts its row from `zeros`
/// (kC or c floats of 0) instead of from what `values` held there.
template <int64_t kC, int kK = 0>
[[gnu::always_inline]] inline void scatter_corners(const float* in, float scale, const int32_t* vertex,
                                                   const float* weight, int run_time_corners, float* values, int64_t c,
                                                   uint32_t first = 0, const float* zeros = nullptr) {
  const int corners = kK > 0 ? kK : run_time_corners;
  const int64_t n = width<kC>(c);
  if constexpr (kC >= kLanes) {
    // The row is loaded once: the stores below may alias `in` as far as the
    // compiler knows, so axpy reloaded it for every corner.
    Vec row[kC / kLanes];
    for (int64_t j = 0; j < kC / kLanes; ++j) row[j] = load(in + j * kLanes);
    for (int r = 0; r < corners; ++r) {
      const float a = scale * weight[r];
      float* out = values + static_cast<int64_t>(vertex[r]) * n;
      const float* old = (first >> r) & 1 ? zeros : out;  // a select, not a branch
      for (int64_t j = 0; j < kC / kLanes; ++j) store(out + j * kLanes, load(old + j * kLanes) + a * row[j]);
    }
  } else {
    for (int r = 0; r < corners; ++r) {
      float* out = values + static_cast<int64_t>(vertex[r]) * n;
      if ((first >> r) & 1) std::fill(out, out + c, 0.0f);
      axpy<kC>(scale * weight[r], in, out, c);
    }
  }
}

/// One lattice axis of the [1/2, 1, 1/2] blur, v += (lower + upper) / 2 with
/// the values from before the pass, in place: `chains` lists each chain of
/// neighbours along the axis from its lower end, followed by -1 (one more -1
/// ends the list).  Walking a chain keeps the old values of the previous and
/// current vertex in registers, so each row is read and written once, and
/// the vertices that have no neighbour on the axis are not touched at all;
/// the arithmetic is that of the out-of-place pass.
template <int64_t kC>
[[gnu::always_inline]] inline void blur_chains(float* values, const int32_t* chains, int64_t length, int64_t c) {
  const int64_t n = width<kC>(c);
  if constexpr (kC >= kLanes) {
    constexpr int64_t kVecs = kC / kLanes;
    for (int64_t t = 0; t + 1 < length; ++t) {  // t: the lower end of a chain
      Vec below[kVecs] = {}, self[kVecs];
      for (int64_t j = 0; j < kVecs; ++j) self[j] = load(values + chains[t] * n + j * kLanes);
      for (; chains[t] >= 0; ++t) {
        const int64_t next = chains[t + 1];
        Vec above[kVecs] = {};
        if (next >= 0) {
          for (int64_t j = 0; j < kVecs; ++j) above[j] = load(values + next * n + j * kLanes);
        }
        float* out = values + chains[t] * n;
        for (int64_t j = 0; j < kVecs; ++j) {
          store(out + j * kLanes, self[j] + 0.5f * (below[j] + above[j]));
          below[j] = self[j];
          self[j] = above[j];
        }
      }
    }
  } else if constexpr (kC == 1) {  // one float per vertex (the normalisation, K 1), in registers
    for (int64_t t = 0; t + 1 < length; ++t) {
      float below = 0.0f, self = values[chains[t]];
      for (; chains[t] >= 0; ++t) {
        const int64_t next = chains[t + 1];
        const float above = next >= 0 ? values[next] : 0.0f;
        values[chains[t]] = self + 0.5f * (below + above);
        below = self;
        self = above;
      }
    }
  } else {  // (copying rows through vectors: for one channel, 7x the kC = 1 path's instructions under callgrind)
    std::vector<float> below(static_cast<size_t>(c)), self(static_cast<size_t>(c)), above(static_cast<size_t>(c));
    for (int64_t t = 0; t + 1 < length; ++t) {
      std::fill(below.begin(), below.end(), 0.0f);
      std::copy(values + chains[t] * n, values + chains[t] * n + n, self.begin());
      for (; chains[t] >= 0; ++t) {
        const int64_t next = chains[t + 1];
        if (next >= 0) {
          std::copy(values + next * n, values + next * n + n, above.begin());
        } else {
          std::fill(above.begin(), above.end(), 0.0f);
        }
        float* out = values + chains[t] * n;
        for (int64_t k = 0; k < c; ++k) out[k] = self[k] + 0.5f * (below[k] + above[k]);
        std::swap(below, self);
        std::swap(self, above);
      }
    }
  }
}

}  // namespace deeplab::postprocess::kernels
