#include "deeplab/export/torchscript.h"

#include <gtest/gtest.h>
#include <torch/script.h>

#include "deeplab/core/error.h"
#include "deeplab/weights/state_dict.h"
#include "tests/support/test_support.h"
#include "tests/weights/export_fixtures.h"
#include "tests/weights/export_test_models.h"

namespace deeplab::exporting {
namespace {

ExportMetadata sample_metadata() {
  ExportMetadata meta;
  meta.arch = "resize_net/test";
  meta.class_names = {"background", "cat \"tabby\"", "road\\lane", "naïve", "tab\there"};
  meta.palette = {{0, 0, 0}, {128, 0, 0}, {0, 128, 0}, {128, 128, 0}, {255, 255, 255}};
  meta.mean = {0.485, 0.456, 0.406};
  meta.std = {0.229, 0.224, 0.225};
  meta.input_size = {33, 45};
  meta.extra = {{"output_stride", "2"}, {"align_corners", "false"}};
  return meta;
}

// A ResizeNet with non-trivial BN state, exported at 33x45.
struct Exported {
  testing::ResizeNet net;
  testing::TempDir dir;
  std::string path;
  Exported() {
    torch::manual_seed(7);
    testing::randomize_batch_norms(*net);
    path = dir.file("model.pt");
    export_torchscript(
        *net, [this](const torch::Tensor& x) { return net->forward(x); }, torch::randn({1, 3, 33, 45}),
        sample_metadata(), path);
    net->eval();
  }
  torch::Tensor run(const torch::Tensor& x) {
    torch::NoGradGuard no_grad;
    return net->forward(x);
  }
};

TEST(TorchScript, RunsInPythonAtSizesOtherThanTraced) {
  DEEPLAB_REQUIRE_FIXTURES();
  Exported model;
  c10::Dict<std::string, torch::Tensor> inputs;
  inputs.insert("a", torch::randn({1, 3, 57, 31}));
  inputs.insert("b", torch::randn({2, 3, 20, 66}));
  const std::string in_path = model.dir.file("inputs.pt");
  const std::string out_path = model.dir.file("outputs.pt");
  testing::save_plain_dict(inputs, in_path);
  std::string log;
  ASSERT_EQ(testing::run_fixture_script("run-script " + model.path + " " + in_path + " " + out_path, &log), 0) << log;
  const auto outputs = testing::load_plain_dict(out_path);
  for (const char* name : {"a", "b"}) {
    const torch::Tensor x = inputs.at(name);
    const torch::Tensor expected = model.run(x);
    const torch::Tensor got = outputs.at(name).toTensor();
    EXPECT_EQ(got.sizes(), torch::IntArrayRef({x.size(0), 5, x.size(2), x.size(3)})) << name;
    EXPECT_TRUE(testing::close_enough(got, expected)) << name;
    EXPECT_GT(expected.std().item<double>(), 0.05) << name;
  }
  EXPECT_EQ(metadata_from_json(outputs.at("meta").toStringRef(), "python meta"), sample_metadata());
  // Negative control: the C++ model with one perturbed weight no longer matches.
  {
    torch::NoGradGuard no_grad;
    model.net->classifier->weight[1][2][0][0].add_(0.3);
  }
  EXPECT_FALSE(testing::close_enough(outputs.at("a").toTensor(), model.run(inputs.at("a"))));
}

TEST(TorchScript, RunsInCppJitLoadWithSameNames) {
  Exported model;
  torch::jit::Module loaded = torch::jit::load(model.path);
  loaded.eval();
  for (const auto& size : {std::vector<int64_t>{1, 3, 33, 45}, std::vector<int64_t>{1, 3, 71, 29}}) {
    const torch::Tensor x = torch::randn(size);
    torch::NoGradGuard no_grad;
    const torch::Tensor got = loaded.forward({x}).toTensor();
    EXPECT_TRUE(testing::close_enough(got, model.run(x))) << size;
  }
  std::vector<std::string> names;
  for (const auto& p : loaded.named_parameters()) names.push_back(p.name);
  for (const auto& b : loaded.named_buffers()) names.push_back(b.name);
  std::sort(names.begin(), names.end());
  std::vector<std::string> ours;
  for (const auto& e : weights::module_state_dict(*model.net)) ours.push_back(e.first);
  std::sort(ours.begin(), ours.end());
  EXPECT_EQ(names, ours);
}

TEST(TorchScript, MetadataRoundTripsAndModeIsRestored) {
  Exported model;
  EXPECT_EQ(read_export_metadata(model.path), sample_metadata());
  torch::jit::ExtraFilesMap extra{{kMetadataFile, ""}};
  torch::jit::load(model.path, c10::nullopt, extra);
  EXPECT_EQ(metadata_from_json(extra[kMetadataFile], "jit extra"), sample_metadata());

  testing::ResizeNet training_net;
  ASSERT_TRUE(training_net->is_training());
  export_torchscript(
      *training_net, [&](const torch::Tensor& x) { return training_net->forward(x); }, torch::randn({1, 3, 17, 17}), {},
      model.dir.file("other.pt"));
  EXPECT_TRUE(training_net->is_training());
}

TEST(TorchScript, ExportsListOutputs) {
  testing::ResizeNet net;
  net->eval();
  testing::TempDir dir;
  const std::string path = dir.file("list.pt");
  export_torchscript(
      *net, [&](const torch::Tensor& x) { return net->forward_all(x); }, torch::randn({1, 3, 24, 24}), {}, path);
  torch::jit::Module loaded = torch::jit::load(path);
  const torch::Tensor x = torch::randn({1, 3, 41, 19});
  torch::NoGradGuard no_grad;
  const auto got = loaded.forward({x}).toTensorVector();
  const auto expected = net->forward_all(x);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_TRUE(testing::close_enough(got[0], expected[0]));
  EXPECT_TRUE(testing::close_enough(got[1], expected[1]));
}

TEST(TorchScript, ExportsDictOutputs) {
  testing::ResizeNet net;
  net->eval();
  testing::TempDir dir;
  const std::string path = dir.file("dict.pt");
  const auto named = [&](const torch::Tensor& x) {
    const auto all = net->forward_all(x);
    c10::Dict<std::string, torch::Tensor> out;
    out.insert("logits", all[0]);
    out.insert("low", all[1]);
    return out;
  };
  export_torchscript(*net, named, torch::randn({1, 3, 24, 24}), {}, path);
  torch::jit::Module loaded = torch::jit::load(path);
  const torch::Tensor x = torch::randn({1, 3, 29, 37});
  torch::NoGradGuard no_grad;
  const auto got = loaded.forward({x}).toGenericDict();
  EXPECT_TRUE(testing::close_enough(got.at("logits").toTensor(), named(x).at("logits")));
  EXPECT_EQ(got.at("low").toTensor().sizes(), named(x).at("low").sizes());
}

TEST(TorchScript, ErrorsNameTheFile) {
  testing::TempDir dir;
  const std::string bogus = dir.write("bogus.pt", "not a zip");
  try {
    read_export_metadata(bogus);
    FAIL();
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find(bogus), std::string::npos) << e.what();
  }
  testing::ResizeNet net;
  const std::string unwritable = dir.path() + "/no/such/dir/model.pt";
  EXPECT_THROW(
      export_torchscript(
          *net, [&](const torch::Tensor& x) { return net->forward(x); }, torch::randn({1, 3, 8, 8}), {}, unwritable),
      IoError);
  EXPECT_THROW(metadata_from_json("{\"format\": \"other\"}", "x.json"), IoError);
}

}  // namespace
}  // namespace deeplab::exporting
