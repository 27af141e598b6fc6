// Loader, sampler and transforms: determinism across worker counts, shards,
// bad-sample skipping, shutdown, and label-safe augmentation.

#include "deeplab/data/loader.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstring>
#include <set>

#include "deeplab/core/error.h"
#include "deeplab/data/memory_dataset.h"

namespace deeplab::data {
namespace {

/// Deterministic in-memory samples of varied sizes; `bad` indices throw DataError.
class MemoryDataset : public Dataset {
 public:
  MemoryDataset(size_t n, std::set<size_t> bad = {}) : n_(n), bad_(std::move(bad)) {}
  size_t size() const override { return n_; }
  std::string id(size_t i) const override { return "m" + std::to_string(i); }
  int num_classes() const override { return 5; }
  int ignore_label() const override { return 255; }
  Sample get(size_t i) const override {
    if (bad_.count(i)) throw DataError("bad sample file m" + std::to_string(i) + ".png");
    Sample s;
    s.id = id(i);
    const int h = 20 + static_cast<int>(i % 5), w = 24 + static_cast<int>(i % 3);
    s.image.create(h, w, CV_8UC3);
    s.label.create(h, w, CV_8UC1);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const int cls = (x / 6 + y / 5 + static_cast<int>(i)) % 5;
        s.label.at<uint8_t>(y, x) = static_cast<uint8_t>(cls);
        s.image.at<cv::Vec3b>(y, x) = cv::Vec3b(static_cast<uint8_t>(cls * 40), static_cast<uint8_t>(x * 9), 7);
      }
    return s;
  }

 private:
  size_t n_;
  std::set<size_t> bad_;
};

TransformOptions train_options() {
  TransformOptions o;
  o.crop_h = 16;
  o.crop_w = 18;
  o.scale_min = 0.5;
  o.scale_max = 2.0;
  o.photometric.enabled = true;
  return o;
}

TransformOptions eval_options() {
  TransformOptions o;
  o.train = false;
  return o;
}

LoaderOptions loader_options(int workers, uint64_t seed = 7) {
  LoaderOptions o;
  o.batch_size = 3;
  o.workers = workers;
  o.prefetch = 2;
  o.seed = seed;
  return o;
}

std::vector<Batch> first_batches(int workers, uint64_t seed, int64_t epoch = 0, size_t count = 3) {
  Loader loader(std::make_shared<MemoryDataset>(11), Transform(train_options()), loader_options(workers, seed));
  loader.start_epoch(epoch);
  std::vector<Batch> out;
  while (out.size() < count) out.push_back(*loader.next());
  return out;
}

TEST(Loader, SameSeedSameBatchesWhateverTheWorkerCount) {
  const auto one = first_batches(1, 7), two = first_batches(2, 7), none = first_batches(0, 7);
  for (size_t b = 0; b < one.size(); ++b) {
    EXPECT_EQ(one[b].ids, two[b].ids);
    EXPECT_TRUE(torch::equal(one[b].images, two[b].images)) << "batch " << b;
    EXPECT_TRUE(torch::equal(one[b].labels, two[b].labels)) << "batch " << b;
    EXPECT_TRUE(torch::equal(one[b].images, none[b].images)) << "batch " << b;
  }
  const auto other = first_batches(2, 8);
  EXPECT_FALSE(torch::equal(one[0].images, other[0].images));
  const auto next_epoch = first_batches(2, 7, 1);
  EXPECT_NE(one[0].ids, next_epoch[0].ids);  // reshuffled by seed + epoch
}

TEST(Loader, BatchesAreContiguousNormalisedTensors) {
  const auto batches = first_batches(2, 3, 0, 1);
  const Batch& b = batches[0];
  EXPECT_EQ(b.images.sizes(), (std::vector<int64_t>{3, 3, 16, 18}));
  EXPECT_EQ(b.labels.sizes(), (std::vector<int64_t>{3, 16, 18}));
  EXPECT_EQ(b.images.scalar_type(), torch::kFloat);
  EXPECT_EQ(b.labels.scalar_type(), torch::kLong);
  EXPECT_TRUE(b.images.is_contiguous() && b.labels.is_contiguous());
  const auto values = std::get<0>(torch::_unique(b.labels));
  for (int64_t v : std::vector<int64_t>(values.data_ptr<int64_t>(), values.data_ptr<int64_t>() + values.numel())) {
    EXPECT_TRUE((v >= 0 && v < 5) || v == 255) << v;  // nearest-neighbour labels, 255 padding only
  }
}

TEST(Loader, EvalCoversEveryShardOnceAndNormalises) {
  LoaderOptions o = loader_options(2);
  o.train = false;
  o.drop_last = false;
  o.world_size = 3;
  std::multiset<size_t> seen;
  for (int rank = 0; rank < 3; ++rank) {
    o.rank = rank;
    Loader loader(std::make_shared<MemoryDataset>(11), Transform(eval_options()), o);
    loader.start_epoch(0);
    while (auto b = loader.next()) seen.insert(b->indices.begin(), b->indices.end());
  }
  EXPECT_EQ(seen.size(), 11u);
  EXPECT_EQ(std::set<size_t>(seen.begin(), seen.end()).size(), 11u);

  o.world_size = 1;
  o.rank = 0;
  o.batch_size = 1;
  Loader loader(std::make_shared<MemoryDataset>(2), Transform(eval_options()), o);
  loader.start_epoch(0);
  const Batch b = *loader.next();  // sample 0: pixel (0,0) is class 0, RGB (0, 0, 7)
  EXPECT_NEAR(b.images[0][0][0][0].item<float>(), (0 - 0.485f) / 0.229f, 1e-5);
  EXPECT_NEAR(b.images[0][2][0][0].item<float>(), (7 / 255.0f - 0.406f) / 0.225f, 1e-5);
}

TEST(Sampler, TrainShardsArePaddedToEqualSizeAndReshuffled) {
  std::multiset<size_t> all;
  for (int rank = 0; rank < 4; ++rank) {
    DistributedSampler s({10, rank, 4, true, 1});
    const auto idx = s.indices(0);
    EXPECT_EQ(idx.size(), 3u);
    EXPECT_EQ(s.shard_size(), 3u);
    all.insert(idx.begin(), idx.end());
  }
  EXPECT_EQ(std::set<size_t>(all.begin(), all.end()).size(), 10u);
  DistributedSampler s({10, 0, 1, true, 1});
  EXPECT_NE(s.indices(0), s.indices(1));
  EXPECT_EQ(s.indices(2), DistributedSampler({10, 0, 1, true, 1}).indices(2));
  EXPECT_THROW(DistributedSampler({10, 2, 2, true, 1}), ConfigError);
}

TEST(Loader, DropLastAndBadSamples) {
  LoaderOptions o = loader_options(2);
  Loader dropping(std::make_shared<MemoryDataset>(11), Transform(train_options()), o);
  EXPECT_EQ(dropping.num_batches(), 3u);
  o.drop_last = false;
  EXPECT_EQ(Loader(std::make_shared<MemoryDataset>(11), Transform(train_options()), o).num_batches(), 4u);

  o.train = false;  // in order: sample 4 is in the second batch
  Loader strict(std::make_shared<MemoryDataset>(6, std::set<size_t>{4}), Transform(eval_options()), o);
  strict.start_epoch(0);
  strict.next();
  try {
    strict.next();
    FAIL() << "expected the bad sample's error";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("m4.png"), std::string::npos);
  }
  o.skip_bad_samples = true;
  Loader lenient(std::make_shared<MemoryDataset>(6, std::set<size_t>{4}), Transform(eval_options()), o);
  lenient.start_epoch(0);
  size_t samples = 0;
  while (auto b = lenient.next()) samples += b->ids.size();
  EXPECT_EQ(samples, 5u);
  EXPECT_EQ(lenient.skipped(), 1u);
}

TEST(Loader, StopsCleanlyMidEpochAndRestarts) {
  Loader loader(std::make_shared<MemoryDataset>(30), Transform(train_options()), loader_options(2));
  loader.start_epoch(0);
  loader.next();
  loader.start_epoch(1);  // abandons epoch 0 with workers blocked on a full queue
  size_t n = 0;
  while (loader.next()) ++n;
  EXPECT_EQ(n, loader.num_batches());
}  // destructor joins: a leaked or stuck thread would hang or crash here

/// Samples with two cars (26000, 26001), a crowd of class 1 and stuff class 0;
/// sizes differ so that eval batches pad.
std::shared_ptr<const Dataset> panoptic_dataset() {
  std::vector<Sample> samples;
  for (int i = 0; i < 4; ++i) {
    const int h = 30 + 3 * i, w = 34 + 2 * i;
    Sample s{"p" + std::to_string(i), cv::Mat(h, w, CV_8UC3, cv::Scalar(90, 60, 30)), cv::Mat::zeros(h, w, CV_8UC1),
             cv::Mat::zeros(h, w, CV_32SC1)};
    s.label(cv::Rect(2 + i, 3, 8, 9)).setTo(1);  // 72 px: small
    s.instances(cv::Rect(2 + i, 3, 8, 9)).setTo(26000);
    s.label(cv::Rect(10 + i, 3, 6, 14)).setTo(1);  // touches the first car; 84 px, not small
    s.instances(cv::Rect(10 + i, 3, 6, 14)).setTo(26001);
    s.label(cv::Rect(20, 18, 7, 5)).setTo(1);  // crowd: instance value 0
    s.label(cv::Rect(0, h - 3, w, 3)).setTo(255);
    samples.push_back(std::move(s));
  }
  return std::make_shared<deeplab::data::MemoryDataset>(std::move(samples), 3);
}

PanopticTargetOptions panoptic_options() {
  PanopticTargetOptions o;
  o.thing_ids = {1};
  o.sigma = 2;
  o.small_instance_area = 80;
  o.crowd_as_ignore = true;
  return o;
}

/// Row i of a batch as a Sample with the batch's (pre-target) label and instances.
Sample batch_row(const Batch& b, int64_t i, int h, int w) {
  Sample s;
  s.id = b.ids[static_cast<size_t>(i)];
  s.label = cv::Mat(h, w, CV_8UC1);
  s.instances = cv::Mat(h, w, CV_32SC1);
  const auto labels = b.labels[i].slice(0, 0, h).slice(1, 0, w).to(torch::kByte).contiguous();
  const auto instances = b.instances[i].slice(0, 0, h).slice(1, 0, w).contiguous();
  std::memcpy(s.label.data, labels.data_ptr<uint8_t>(), static_cast<size_t>(h * w));
  std::memcpy(s.instances.data, instances.data_ptr<int32_t>(), static_cast<size_t>(h * w) * 4);
  return s;
}

torch::Tensor as_tensor(const cv::Mat& m) {  // CV_32FC<k> [H, W] -> float [k, H, W]
  return torch::from_blob(m.data, {m.rows, m.cols, m.channels()}, torch::kFloat).permute({2, 0, 1}).clone();
}

void expect_targets_match(const Batch& with, const Batch& without, int64_t i, int h, int w) {
  Sample s = batch_row(without, i, h, w);
  const PanopticTargets t = make_panoptic_targets(s, panoptic_options());
  const auto crop = [&](const torch::Tensor& x) { return x[i].slice(-2, 0, h).slice(-1, 0, w); };
  EXPECT_TRUE(torch::equal(crop(with.center), as_tensor(t.center))) << i;
  EXPECT_TRUE(torch::equal(crop(with.offset), as_tensor(t.offset))) << i;
  EXPECT_TRUE(torch::equal(crop(with.center_weights), as_tensor(t.center_weight)[0])) << i;
  EXPECT_TRUE(torch::equal(crop(with.offset_weights), as_tensor(t.offset_weight)[0])) << i;
  EXPECT_TRUE(torch::equal(crop(with.semantic_weights), as_tensor(t.semantic_weight)[0])) << i;
  const auto crowd_as_ignore = torch::from_blob(s.label.data, {h, w}, torch::kByte).to(torch::kLong);
  EXPECT_TRUE(torch::equal(crop(with.labels), crowd_as_ignore)) << i;
}

TEST(Loader, PanopticTargetsAreMadeOnTheAugmentedCrop) {
  TransformOptions t = train_options();
  t.crop_h = 24;
  t.crop_w = 28;
  t.scale_min = 0.75;
  t.scale_max = 1.25;
  LoaderOptions o = loader_options(0, 11);
  o.batch_size = 4;
  Loader plain(panoptic_dataset(), Transform(t), o);
  o.panoptic = panoptic_options();
  Loader panoptic(panoptic_dataset(), Transform(t), o);
  plain.start_epoch(0);
  panoptic.start_epoch(0);
  const Batch without = *plain.next(), with = *panoptic.next();
  EXPECT_FALSE(without.center.defined());
  ASSERT_EQ(with.ids, without.ids);
  EXPECT_EQ(with.center.sizes(), (std::vector<int64_t>{4, 1, 24, 28}));
  EXPECT_EQ(with.offset.sizes(), (std::vector<int64_t>{4, 2, 24, 28}));
  for (const auto* x : {&with.center_weights, &with.offset_weights, &with.semantic_weights}) {
    EXPECT_EQ(x->sizes(), (std::vector<int64_t>{4, 24, 28}));
    EXPECT_EQ(x->scalar_type(), torch::kFloat);
  }
  EXPECT_GT(with.offset_weights.sum().item<float>(), 0);  // the crops hold car pixels
  for (int64_t i = 0; i < 4; ++i) expect_targets_match(with, without, i, 24, 28);
}

TEST(Loader, PanopticEvalBatchesPadTargetsWithZero) {
  LoaderOptions o = loader_options(0);
  o.train = false;
  o.drop_last = false;
  o.batch_size = 2;
  Loader plain(panoptic_dataset(), Transform(eval_options()), o);
  o.panoptic = panoptic_options();
  Loader panoptic(panoptic_dataset(), Transform(eval_options()), o);
  plain.start_epoch(0);
  panoptic.start_epoch(0);
  const Batch without = *plain.next(), with = *panoptic.next();  // p0 (30x34) and p1 (33x36)
  ASSERT_EQ(with.ids, (std::vector<std::string>{"p0", "p1"}));
  EXPECT_EQ(with.center.sizes(), (std::vector<int64_t>{2, 1, 33, 36}));
  expect_targets_match(with, without, 0, 30, 34);
  expect_targets_match(with, without, 1, 33, 36);
  for (const auto* x :
       {&with.center, &with.offset, &with.center_weights, &with.offset_weights, &with.semantic_weights}) {
    EXPECT_EQ((*x)[0].slice(-2, 30).abs().sum().item<float>(), 0);  // padded rows
    EXPECT_EQ((*x)[0].slice(-1, 34).abs().sum().item<float>(), 0);  // padded columns
  }
}

TEST(Transform, ImageAndLabelStayAlignedThroughCropAndFlip) {
  TransformOptions o = train_options();
  o.scale_min = o.scale_max = 1.0;
  o.photometric.enabled = false;
  o.crop_h = 30;  // taller than every sample: exercises padding
  const Transform t(o);
  MemoryDataset ds(5);
  for (uint64_t seed = 0; seed < 8; ++seed) {
    Sample s = ds.get(seed % 5);
    std::mt19937_64 rng(seed);
    t.apply(s, rng);
    ASSERT_EQ(s.image.rows, 30);
    ASSERT_EQ(s.label.cols, 18);
    for (int y = 0; y < s.label.rows; ++y)
      for (int x = 0; x < s.label.cols; ++x) {
        const int l = s.label.at<uint8_t>(y, x);
        const cv::Vec3b p = s.image.at<cv::Vec3b>(y, x);
        if (l == 255) {
          EXPECT_EQ(p, cv::Vec3b(124, 116, 104));  // padded with the mean
        } else {
          EXPECT_EQ(p[0], l * 40);
        }
      }
  }
}

TEST(Transform, PhotometricChangesOnlyTheImageAndEvalPadsToAMultiple) {
  TransformOptions o = train_options();
  o.scale_min = o.scale_max = 1.0;
  o.flip = false;
  MemoryDataset ds(4);
  o.photometric.enabled = true;
  o.photometric.brightness = 0;  // contrast/saturation/hue may still fire with p = 0.5 each
  bool changed = false;
  for (uint64_t seed = 0; seed < 6 && !changed; ++seed) {
    Sample s = ds.get(0), ref = ds.get(0);
    std::mt19937_64 r1(seed), r2(seed);
    Transform(o).apply(s, r1);
    o.photometric.enabled = false;
    Transform(o).apply(ref, r2);
    o.photometric.enabled = true;
    EXPECT_EQ(cv::countNonZero(s.label != ref.label), 0);
    changed = cv::norm(s.image, ref.image, cv::NORM_L1) > 0;
  }
  EXPECT_TRUE(changed);

  TransformOptions e = eval_options();
  e.eval_pad_multiple = 16;
  Sample whole = ds.get(3);  // 23x24
  std::mt19937_64 rng(0);
  Transform(e).apply(whole, rng);
  EXPECT_EQ(whole.image.size(), cv::Size(32, 32));
  EXPECT_EQ(whole.label.at<uint8_t>(31, 31), 255);
  EXPECT_EQ(whole.label.at<uint8_t>(22, 23), ds.get(3).label.at<uint8_t>(22, 23));
}

TEST(Transform, SteppedScalesComeFromTheGrid) {
  std::mt19937_64 rng(1);
  std::set<double> seen;
  for (int i = 0; i < 200; ++i) seen.insert(sample_scale(rng, 0.5, 2.0, 0.25));
  EXPECT_EQ(seen, (std::set<double>{0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0}));
}

}  // namespace
}  // namespace deeplab::data
