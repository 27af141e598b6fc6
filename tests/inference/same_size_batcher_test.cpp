// SameSizeBatcher: consecutive one-image batches of one size are joined up
// to the limit, a size change ends a batch, order and ids are kept, labels
// are joined with the images and a tensor some parts lack stays undefined.

#include "deeplab/inference/same_size_batcher.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace deeplab::inference {
namespace {

data::Batch one(const std::string& id, int64_t height, int64_t width) {
  data::Batch b;
  b.images = torch::full({1, 3, height, width}, static_cast<float>(id[0]));
  b.labels = torch::zeros({1, height, width}, torch::kLong);
  b.ids = {id};
  b.indices = {static_cast<size_t>(id[0] - 'a')};
  return b;
}

TEST(SameSizeBatcher, JoinsUpToTheLimitAndEndsABatchAtASizeChange) {
  SameSizeBatcher batcher(2);
  EXPECT_FALSE(batcher.add(one("a", 4, 6)));
  auto ready = batcher.add(one("b", 4, 6));  // full
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->ids, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(ready->indices, (std::vector<size_t>{0, 1}));
  EXPECT_EQ(ready->images.sizes(), (std::vector<int64_t>{2, 3, 4, 6}));
  EXPECT_EQ(ready->labels.sizes(), (std::vector<int64_t>{2, 4, 6}));
  EXPECT_EQ(ready->images[1][0][0][0].item<float>(), 'b');
  EXPECT_FALSE(ready->instances.defined());

  EXPECT_FALSE(batcher.add(one("c", 4, 6)));
  ready = batcher.add(one("d", 5, 6));  // another size: "c" alone
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->ids, (std::vector<std::string>{"c"}));
  ready = batcher.add(one("e", 4, 6));
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->ids, (std::vector<std::string>{"d"}));
  ready = batcher.flush();
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->ids, (std::vector<std::string>{"e"}));
  EXPECT_FALSE(batcher.flush());
}

TEST(SameSizeBatcher, LimitOneNeverJoins) {
  SameSizeBatcher batcher(0);  // taken as 1
  auto ready = batcher.add(one("a", 4, 6));
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->images.size(0), 1);
  EXPECT_FALSE(batcher.flush());
}

}  // namespace
}  // namespace deeplab::inference
