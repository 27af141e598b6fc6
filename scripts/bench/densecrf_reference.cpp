// The reference side of the dense CRF speed ratio: Kraehenbuehl's densecrf
// (pydensecrf's C++ copy) on the same image, unary and DeepLab v2 parameters
// as postprocess::dense_crf.  Built and run by
// tests/postprocess/dense_crf_test.cpp's DISABLED_ ratio benchmark:
//   g++ -O3 -march=native -DNDEBUG -I $DENSECRF/include densecrf_reference.cpp $DENSECRF/src/{densecrf,
//       labelcompatibility,objective,pairwise,permutohedral,unary,util}.cpp
//   densecrf_reference RGB.u8 PROBS.f32 WIDTH HEIGHT LABELS OUT.u8
// RGB: H x W x 3 bytes; PROBS: C x H x W floats (a softmax).  Prints the
// seconds of setup + 10 mean-field iterations; writes the argmax labels.

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <vector>

#include "densecrf.h"

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr, "usage: %s RGB.u8 PROBS.f32 WIDTH HEIGHT LABELS OUT.u8\n", argv[0]);
    return 2;
  }
  const int w = std::atoi(argv[3]), h = std::atoi(argv[4]), m = std::atoi(argv[5]);
  const int n = w * h;
  std::vector<unsigned char> rgb(static_cast<size_t>(n) * 3);
  std::vector<float> probs(static_cast<size_t>(n) * m);
  std::ifstream(argv[1], std::ios::binary).read(reinterpret_cast<char*>(rgb.data()), static_cast<long>(rgb.size()));
  std::ifstream(argv[2], std::ios::binary)
      .read(reinterpret_cast<char*>(probs.data()), static_cast<long>(probs.size() * sizeof(float)));
  MatrixXf unary(m, n);  // -log p, one column per pixel (y * W + x)
  for (int c = 0; c < m; ++c) {
    for (int i = 0; i < n; ++i) unary(c, i) = -std::log(std::max(probs[static_cast<size_t>(c) * n + i], 1e-8f));
  }
  const auto start = std::chrono::steady_clock::now();
  DenseCRF2D crf(w, h, m);
  crf.setUnaryEnergy(unary);
  crf.addPairwiseGaussian(1, 1, new PottsCompatibility(3));                          // spatial: xy std 1, weight 3
  crf.addPairwiseBilateral(67, 67, 3, 3, 3, rgb.data(), new PottsCompatibility(4));  // xy 67, rgb 3, weight 4
  const MatrixXf q = crf.inference(10);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::vector<unsigned char> labels(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    int best = 0;
    for (int c = 1; c < m; ++c) best = q(c, i) > q(best, i) ? c : best;
    labels[static_cast<size_t>(i)] = static_cast<unsigned char>(best);
  }
  std::ofstream(argv[6], std::ios::binary).write(reinterpret_cast<const char*>(labels.data()), n);
  std::printf("%.6f\n", seconds);
  return 0;
}
