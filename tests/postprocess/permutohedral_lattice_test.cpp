// The permutohedral lattice against brute-force Gaussian filtering, both with
// densecrf's symmetric normalisation (out = D^-1/2 K D^-1/2 in): the lattice
// is an approximation, so the check is an error budget (RMS relative error
// < 5 %), on the bilateral features the dense CRF uses and on positions alone.

#include "deeplab/postprocess/permutohedral_lattice.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <random>

namespace deeplab::postprocess {
namespace {

// A small picture's dense-CRF features: (x, y) / xy_std and three colour
// channels / rgb_std, with colours from a few regions plus noise.
std::vector<float> picture_features(int h, int w, float xy_std, float rgb_std, bool with_colour, std::mt19937& rng) {
  std::normal_distribution<float> noise(0.0f, 6.0f);
  std::vector<float> f;
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      f.push_back(x / xy_std);
      f.push_back(y / xy_std);
      if (!with_colour) continue;
      const int region = (x < w / 2 ? 0 : 1) + (y < h / 3 ? 0 : 2);
      for (int c = 0; c < 3; ++c) f.push_back((40.0f * ((region + c) % 4) + noise(rng)) / rgb_std);
    }
  }
  return f;
}

std::vector<double> brute_force_symmetric(const std::vector<float>& f, int64_t n, int d, const std::vector<float>& in,
                                          int64_t c) {
  const auto kernel = [&](int64_t i, int64_t j) {
    double dist = 0;
    for (int k = 0; k < d; ++k) dist += std::pow(f[i * d + k] - f[j * d + k], 2);
    return std::exp(-dist / 2);
  };
  std::vector<double> scale(n, 0.0), out(n * c, 0.0);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < n; ++j) scale[i] += kernel(i, j);
  }
  for (double& s : scale) s = 1 / std::sqrt(s);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      const double k = kernel(i, j) * scale[i] * scale[j];
      for (int64_t ch = 0; ch < c; ++ch) out[i * c + ch] += k * in[j * c + ch];
    }
  }
  return out;
}

struct Errors {
  double rms_relative, max_relative;
};

Errors compare(const std::vector<float>& features, int64_t n, int d) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  const int64_t c = 3;
  std::vector<float> in(n * c), out(n * c);
  for (float& v : in) v = unit(rng);
  const SymmetricGaussianFilter filter{PermutohedralLattice(features, n, d)};
  filter.apply(in.data(), out.data(), c);
  const auto expected = brute_force_symmetric(features, n, d, in, c);
  double squared_error = 0, squared = 0, max_relative = 0;
  for (int64_t i = 0; i < n * c; ++i) {
    squared_error += std::pow(out[i] - expected[i], 2);
    squared += expected[i] * expected[i];
    max_relative = std::max(max_relative, std::abs(out[i] - expected[i]) / std::abs(expected[i]));
  }
  return {std::sqrt(squared_error / squared), max_relative};
}

// The algorithm of Adams, Baek & Davis (2010) written the plain way, in
// double precision: a std::map of lattice points keyed by all d + 1
// coordinates, the blur out of place with an explicit neighbour lookup per
// vertex and axis.  PermutohedralLattice::filter must give the same numbers
// (to float rounding): its hash table, first-touch splats, neighbour chains
// and in-place blur are all ways of computing exactly this, so an error in
// any of them (a missed neighbour link, a chain cut short) shows here, where
// the error budget against brute-force Gaussian filtering could hide it.
std::vector<double> reference_lattice_filter(const std::vector<float>& f, int64_t n, int d,
                                             const std::vector<float>& in, int64_t c) {
  using Key = std::vector<int>;
  struct Simplex {
    std::vector<Key> corners;
    std::vector<double> weights;
  };
  std::vector<Simplex> simplices(n);
  std::map<Key, std::vector<double>> values;
  for (int64_t p = 0; p < n; ++p) {
    // Elevate onto the plane sum(x) = 0 (the paper's E, scaled so that the
    // blur is a unit-variance Gaussian): coordinate j gets the scaled
    // features i >= j and -j times feature j - 1.
    std::vector<double> scaled(d), elevated(d + 1, 0.0);
    for (int i = 0; i < d; ++i) {
      scaled[i] = f[p * d + i] * std::sqrt(2.0 / 3.0) * (d + 1) / std::sqrt((i + 1.0) * (i + 2.0));
    }
    for (int j = 0; j <= d; ++j) {
      for (int i = j; i < d; ++i) elevated[j] += scaled[i];
      if (j > 0) elevated[j] -= j * scaled[j - 1];
    }
    // The nearest remainder-0 point, the ranks of the differences (rank 0:
    // the largest), and the walk back onto the plane.
    std::vector<int> rem0(d + 1), rank(d + 1, 0);
    int sum = 0;
    for (int i = 0; i <= d; ++i) {
      rem0[i] = static_cast<int>(std::round(elevated[i] / (d + 1))) * (d + 1);
      sum += rem0[i] / (d + 1);
    }
    for (int i = 0; i <= d; ++i) {
      for (int j = 0; j <= d; ++j) {
        if (j != i && elevated[j] - rem0[j] > elevated[i] - rem0[i]) ++rank[i];
      }
    }
    for (int i = 0; i <= d; ++i) {
      rank[i] += sum;
      if (rank[i] < 0) {
        rank[i] += d + 1;
        rem0[i] += d + 1;
      } else if (rank[i] > d) {
        rank[i] -= d + 1;
        rem0[i] -= d + 1;
      }
    }
    std::vector<double> barycentric(d + 2, 0.0);
    for (int i = 0; i <= d; ++i) {
      const double v = (elevated[i] - rem0[i]) / (d + 1);
      barycentric[d - rank[i]] += v;
      barycentric[d + 1 - rank[i]] -= v;
    }
    barycentric[0] += 1.0 + barycentric[d + 1];
    Simplex& simplex = simplices[p];
    for (int r = 0; r <= d; ++r) {
      Key key(d + 1);
      for (int i = 0; i <= d; ++i) key[i] = rem0[i] + (rank[i] <= d - r ? r : r - (d + 1));
      simplex.corners.push_back(key);
      simplex.weights.push_back(barycentric[r]);
      std::vector<double>& row = values.try_emplace(key, std::vector<double>(c, 0.0)).first->second;
      for (int64_t k = 0; k < c; ++k) row[k] += barycentric[r] * in[p * c + k];
    }
  }
  for (int axis = 0; axis <= d; ++axis) {  // one step up an axis: +1 on every coordinate, -d on that one
    std::map<Key, std::vector<double>> blurred = values;
    for (auto& [key, row] : blurred) {
      for (int direction : {-1, 1}) {
        Key neighbour = key;
        for (int i = 0; i <= d; ++i) neighbour[i] += direction * (i == axis ? -d : 1);
        const auto found = values.find(neighbour);
        if (found == values.end()) continue;
        for (int64_t k = 0; k < c; ++k) row[k] += 0.5 * found->second[k];
      }
    }
    values = std::move(blurred);
  }
  std::vector<double> out(n * c, 0.0);
  for (int64_t p = 0; p < n; ++p) {
    for (int r = 0; r <= d; ++r) {
      const std::vector<double>& row = values.at(simplices[p].corners[r]);
      for (int64_t k = 0; k < c; ++k) out[p * c + k] += simplices[p].weights[r] * row[k];
    }
  }
  return out;
}

// Largest |lattice - reference| over the largest |reference|.
double relative_difference_to_reference(const std::vector<float>& features, int64_t n, int d, int64_t c) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  std::vector<float> in(n * c), out(n * c);
  for (float& v : in) v = unit(rng);
  PermutohedralLattice(features, n, d).filter(in.data(), out.data(), c);
  const std::vector<double> expected = reference_lattice_filter(features, n, d, in, c);
  double largest = 0, difference = 0;
  for (int64_t i = 0; i < n * c; ++i) {
    largest = std::max(largest, std::abs(expected[i]));
    difference = std::max(difference, std::abs(out[i] - expected[i]));
  }
  return difference / largest;
}

// Each kind of channel path the filter has (1 channel; whole 8-float vectors,
// here 8 and 24; any other count, here 3) and both builds (d = 5 unrolled,
// any other d).  The
// features are jittered off the pixel grid: grid points tie in the simplex
// search, where the two implementations may break ties differently (both
// valid, but different lattices).
TEST(PermutohedralLattice, FilterEqualsThePlainAlgorithm) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> jitter(0.0f, 0.3f);
  const int h = 18, w = 22;
  auto bilateral = picture_features(h, w, 4.0f, 5.0f, true, rng);
  auto spatial = picture_features(h, w, 2.5f, 1.0f, false, rng);
  for (float& f : bilateral) f += jitter(rng);
  for (float& f : spatial) f += jitter(rng);
  double worst = 0;
  for (int64_t c : {1, 3, 8, 24}) {
    const double d5 = relative_difference_to_reference(bilateral, h * w, 5, c);
    const double d2 = relative_difference_to_reference(spatial, h * w, 2, c);
    EXPECT_LT(d5, 1e-5) << "d = 5, " << c << " channels";
    EXPECT_LT(d2, 1e-5) << "d = 2, " << c << " channels";
    worst = std::max({worst, d5, d2});
  }
  std::printf("lattice filter against the plain algorithm: largest difference %.1e of the largest value\n", worst);
}

TEST(PermutohedralLattice, BilateralFilterIsWithinFivePercentOfBruteForce) {
  std::mt19937 rng(3);
  const int h = 24, w = 32;
  const auto features = picture_features(h, w, 5.0f, 13.0f, true, rng);
  const Errors e = compare(features, h * w, 5);
  std::printf("bilateral (d = 5, %d points): RMS relative error %.2f %%, max %.2f %%\n", h * w, 100 * e.rms_relative,
              100 * e.max_relative);
  EXPECT_LT(e.rms_relative, 0.05);
}

TEST(PermutohedralLattice, SpatialFilterIsWithinFivePercentOfBruteForce) {
  std::mt19937 rng(4);
  const int h = 24, w = 32;
  const auto features = picture_features(h, w, 3.0f, 1.0f, false, rng);
  const Errors e = compare(features, h * w, 2);
  std::printf("spatial (d = 2, %d points): RMS relative error %.2f %%, max %.2f %%\n", h * w, 100 * e.rms_relative,
              100 * e.max_relative);
  EXPECT_LT(e.rms_relative, 0.05);
}

// first_corners(): every vertex is marked exactly once, at the first point
// (in index order) that has it as a corner.
TEST(PermutohedralLattice, FirstCornersMarkEachVertexAtItsFirstPoint) {
  std::mt19937 rng(3);
  const int h = 24, w = 32;
  const PermutohedralLattice lattice(picture_features(h, w, 5, 8, true, rng), h * w, 5);
  ASSERT_NE(lattice.first_corners(), nullptr);
  std::vector<int64_t> first_point(lattice.vertices(), -1), marked_at(lattice.vertices(), -1);
  for (int64_t i = 0; i < lattice.size(); ++i) {
    for (int r = 0; r < lattice.corners(); ++r) {
      const int32_t v = lattice.corner_vertices()[i * lattice.corners() + r];
      if (first_point[v] < 0) first_point[v] = i;
      if ((lattice.first_corners()[i] >> r) & 1) {
        EXPECT_EQ(marked_at[v], -1) << "vertex " << v << " marked twice";
        marked_at[v] = i;
      }
    }
  }
  EXPECT_EQ(marked_at, first_point);
}

// Points far apart (beyond a few standard deviations) do not mix: each keeps
// its own value, so the filter is not a global average in disguise.
TEST(PermutohedralLattice, DistantPointsDoNotMix) {
  const std::vector<float> features = {0, 0, 100, 0, 0, 100};
  const std::vector<float> in = {1, 0, 0, 0, 1, 0, 0, 0, 1};
  std::vector<float> out(9);
  const SymmetricGaussianFilter filter{PermutohedralLattice(features, 3, 2)};
  filter.apply(in.data(), out.data(), 3);
  for (int i = 0; i < 3; ++i) {
    for (int c = 0; c < 3; ++c) EXPECT_NEAR(out[i * 3 + c], i == c ? 1.0f : 0.0f, 1e-6) << i << "," << c;
  }
}

TEST(PermutohedralLattice, WrongFeatureCountIsAnError) {
  EXPECT_THROW(PermutohedralLattice(std::vector<float>(7), 3, 2), std::invalid_argument);
}

}  // namespace
}  // namespace deeplab::postprocess
