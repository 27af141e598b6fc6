// The torch.save writer: what it writes reads back (our reader) with every
// dtype, shape and value, in order; Python's torch.load reads it with
// weights_only=True (PyTorch 2.6+'s default) as an OrderedDict; a duplicate
// key is an error naming it.

#include "deeplab/weights/pth_writer.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>

#include "deeplab/core/error.h"
#include "deeplab/weights/pth_reader.h"
#include "tests/support/test_support.h"

namespace deeplab::weights {
namespace {

StateDict sample_entries() {
  torch::manual_seed(5);
  return {
      {"conv.weight", torch::randn({4, 3, 3, 3})},
      {"bn.num_batches_tracked", torch::tensor(int64_t{12345678901})},  // a 0-d int64 beyond 32 bits
      {"double", torch::randn({5}, torch::kDouble)},
      {"half", torch::randn({2, 3}).to(torch::kHalf)},
      {"bf16", torch::randn({3}).to(torch::kBFloat16)},
      {"mask", torch::tensor({true, false, true})},
      {"bytes", torch::arange(250, 256).to(torch::kByte)},
      {"transposed", torch::arange(12, torch::kFloat).view({3, 4}).t()},  // not contiguous
      {"empty", torch::zeros({0, 7})},
  };
}

TEST(PthWriter, WhatItWritesReadsBackInOrder) {
  testing::TempDir dir;
  const StateDict entries = sample_entries();
  write_pth(entries, dir.file("w.pth"));
  const StateDict back = read_state_dict(dir.file("w.pth"));
  ASSERT_EQ(back.size(), entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(back[i].first, entries[i].first);
    EXPECT_EQ(back[i].second.scalar_type(), entries[i].second.scalar_type()) << entries[i].first;
    EXPECT_EQ(back[i].second.sizes(), entries[i].second.sizes()) << entries[i].first;
    EXPECT_TRUE(torch::equal(back[i].second, entries[i].second)) << entries[i].first;
  }
}

TEST(PthWriter, PythonLoadsItWithWeightsOnly) {
  if (!testing::have_python_oracle()) GTEST_SKIP() << testing::oracle_python() << " with torch not found";
  testing::TempDir dir;
  write_pth(sample_entries(), dir.file("w.pth"));
  const std::string check =
      "import collections, sys, torch\n"
      "d = torch.load(sys.argv[1], weights_only=True)\n"
      "assert isinstance(d, collections.OrderedDict), type(d)\n"
      "assert list(d) == ['conv.weight', 'bn.num_batches_tracked', 'double', 'half', 'bf16', 'mask', 'bytes',"
      " 'transposed', 'empty'], list(d)\n"
      "assert d['bn.num_batches_tracked'].item() == 12345678901\n"
      "assert d['half'].dtype == torch.float16 and d['bf16'].dtype == torch.bfloat16\n"
      "assert d['mask'].tolist() == [True, False, True]\n"
      "assert d['bytes'].tolist() == list(range(250, 256))\n"
      "assert torch.equal(d['transposed'], torch.arange(12.).view(3, 4).t())\n"
      "assert d['empty'].shape == (0, 7)\n"
      "torch.manual_seed(5)\n"
      "assert torch.equal(d['conv.weight'], torch.randn(4, 3, 3, 3))\n"
      "print('OK')\n";
  const std::string script = dir.write("check.py", check);
  std::string output;
  EXPECT_EQ(testing::run_shell(testing::oracle_python() + " " + script + " " + dir.file("w.pth"), &output), 0)
      << output;
  EXPECT_NE(output.find("OK"), std::string::npos) << output;
}

TEST(PthWriter, DuplicateKeyIsAnErrorNamingIt) {
  testing::TempDir dir;
  try {
    write_pth({{"a", torch::zeros({1})}, {"a", torch::ones({1})}}, dir.file("w.pth"));
    ADD_FAILURE() << "no error";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("duplicate state dict key 'a'"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(dir.file("w.pth")));
}

}  // namespace
}  // namespace deeplab::weights
