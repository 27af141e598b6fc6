// Samples held in memory behave as a dataset: each get() is a copy (the
// transforms write into their inputs), and malformed samples are refused
// with the sample named.

#include "deeplab/data/memory_dataset.h"

#include <gtest/gtest.h>

#include "deeplab/core/error.h"

namespace deeplab::data {
namespace {

Sample sample(const std::string& id, int h, int w) {
  return {id, cv::Mat(h, w, CV_8UC3, cv::Scalar(1, 2, 3)), cv::Mat(h, w, CV_8UC1, cv::Scalar(4)), cv::Mat()};
}

TEST(MemoryDataset, GivesCopiesOfItsSamples) {
  MemoryDataset dataset({sample("a", 4, 5), sample("b", 6, 7)}, 5, 255);
  EXPECT_EQ(dataset.size(), 2u);
  EXPECT_EQ(dataset.id(1), "b");
  EXPECT_EQ(dataset.num_classes(), 5);
  Sample first = dataset.get(0);
  first.label.setTo(9);
  EXPECT_EQ(dataset.get(0).label.at<uint8_t>(0, 0), 4);
  EXPECT_EQ(dataset.get(1).image.size(), cv::Size(7, 6));
}

TEST(MemoryDataset, MalformedSamplesNameTheSample) {
  Sample bad = sample("broken_7", 4, 5);
  bad.label = cv::Mat(3, 5, CV_8UC1);
  try {
    MemoryDataset({sample("ok", 4, 5), bad}, 5);
    FAIL() << "no error";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("broken_7"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace deeplab::data
