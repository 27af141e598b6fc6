// Segments a photo with a model exported by `deeplab export` and writes the
// photo with the classes' colours blended in (and, when asked, the label map).
//   segment_image model.pt photo.jpg overlay.png [labels.png]
#include <deeplab/segmenter.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <exception>
#include <iostream>

int main(int argc, char** argv) {
  if (argc < 4) {
    std::cerr << "usage: " << argv[0] << " model.pt photo.jpg overlay.png [labels.png]\n";
    return 2;
  }
  try {
    const deeplab::Segmenter segmenter = deeplab::Segmenter::from_export(argv[1]);
    const cv::Mat photo = cv::imread(argv[2], cv::IMREAD_COLOR);
    if (photo.empty()) throw std::runtime_error(std::string("cannot read ") + argv[2]);

    const deeplab::Segmentation result = segmenter.segment(photo);
    cv::imwrite(argv[3], segmenter.overlay(photo, result));
    if (argc > 4) {
      cv::Mat labels;
      result.labels.convertTo(labels, CV_8U);  // class indices, one byte each
      cv::imwrite(argv[4], labels);
    }
    std::cout << photo.cols << "x" << photo.rows << " on " << segmenter.device() << ":";
    for (size_t c = 0; c < segmenter.class_names().size(); ++c) {
      const int pixels = cv::countNonZero(result.labels == static_cast<int>(c));
      if (pixels > 0) std::cout << " " << segmenter.class_names()[c] << " " << pixels;
    }
    std::cout << "\n";
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
