#include "deeplab/weights/pth_reader.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>

#include "deeplab/core/error.h"
#include "deeplab/core/fs_util.h"
#include "tests/support/test_support.h"
#include "tests/weights/export_fixtures.h"

namespace deeplab::weights {
namespace {

using testing::export_fixture_dir;

std::string fixture(const std::string& name) { return export_fixture_dir() + "/" + name; }

// Every entry equals the reference dump (read by LibTorch's own unpickler)
// in order, dtype, shape and value, bit for bit.
void expect_matches_reference(const StateDict& got, const std::string& ref_path) {
  const auto ref = testing::load_plain_dict(ref_path);
  ASSERT_EQ(got.size(), ref.size());
  size_t i = 0;
  for (const auto& entry : ref) {
    const auto& [name, tensor] = got[i++];
    const torch::Tensor expected = entry.value().toTensor();
    EXPECT_EQ(name, entry.key().toStringRef());
    EXPECT_EQ(tensor.scalar_type(), expected.scalar_type()) << name;
    EXPECT_EQ(tensor.sizes(), expected.sizes()) << name;
    EXPECT_TRUE(torch::equal(tensor, expected)) << name;
  }
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const IoError& e) {
    return e.what();
  }
  return "(no IoError)";
}

TEST(PthReader, ReadsTorchvisionResnet18StateDict) {
  DEEPLAB_REQUIRE_FIXTURES();
  const StateDict sd = read_state_dict(fixture("resnet18.pth"));
  expect_matches_reference(sd, fixture("resnet18_ref.pt"));
  EXPECT_EQ(sd.front().first, "conv1.weight");
  EXPECT_EQ(sd.front().second.sizes(), torch::IntArrayRef({64, 3, 7, 7}));
  const auto tracked =
      std::find_if(sd.begin(), sd.end(), [](const auto& e) { return e.first == "bn1.num_batches_tracked"; });
  ASSERT_NE(tracked, sd.end());
  EXPECT_EQ(tracked->second.scalar_type(), torch::kLong);
  EXPECT_EQ(tracked->second.dim(), 0);
  EXPECT_GT(tracked->second.item<int64_t>(), 0);  // the script set non-trivial BN state
}

TEST(PthReader, ReadsEveryDtypeAndStridedViews) {
  DEEPLAB_REQUIRE_FIXTURES();
  const StateDict sd = read_state_dict(fixture("dtypes.pth"));
  expect_matches_reference(sd, fixture("dtypes_ref.pt"));
  std::map<std::string, torch::Tensor> by_name(sd.begin(), sd.end());
  // Views keep Python's layout over one shared storage.
  const auto base = torch::arange(40, torch::kFloat).reshape({5, 8});
  EXPECT_TRUE(torch::equal(by_name.at("row"), base[2]));
  EXPECT_EQ(by_name.at("row").storage_offset(), 16);
  EXPECT_EQ(by_name.at("cols_t").strides(), torch::IntArrayRef({1, 8}));
  EXPECT_TRUE(torch::equal(by_name.at("strided"), base.slice(0, 1).slice(1, 0, 8, 3)));
  EXPECT_EQ(by_name.at("strided").data_ptr<float>() - by_name.at("row").data_ptr<float>(), 8 - 16);
  EXPECT_EQ(by_name.at("i64")[2].item<int64_t>(), int64_t{1} << 62);
  EXPECT_EQ(by_name.at("scalar").dim(), 0);
  EXPECT_EQ(by_name.at("empty").sizes(), torch::IntArrayRef({0, 3}));
}

TEST(PthReader, ReadsProtocol4AndCheckpointWrappers) {
  DEEPLAB_REQUIRE_FIXTURES();
  const StateDict plain = read_state_dict(fixture("small.pth"));
  ASSERT_EQ(plain.size(), 15u);
  for (const char* other : {"small_p4.pth", "small_ckpt.pth"}) {
    const StateDict sd = read_state_dict(fixture(other));
    ASSERT_EQ(sd.size(), plain.size()) << other;
    for (size_t i = 0; i < sd.size(); ++i) {
      EXPECT_EQ(sd[i].first, plain[i].first) << other;
      EXPECT_TRUE(torch::equal(sd[i].second, plain[i].second)) << other << " " << sd[i].first;
    }
  }
  const PickleRef ckpt = read_pth_object(fixture("small_ckpt.pth"));
  EXPECT_EQ(ckpt->find("epoch")->integer, 3);
  EXPECT_DOUBLE_EQ(ckpt->find("lr")->real, 0.01);
  EXPECT_EQ(ckpt->find("name")->text, "small");
  const auto& flags = ckpt->find("flags")->items;
  ASSERT_EQ(flags.size(), 3u);
  EXPECT_TRUE(flags[0]->boolean);
  EXPECT_EQ(flags[1]->kind, PickleValue::Kind::None);
  EXPECT_EQ(flags[2]->integer, -(int64_t{1} << 40));
}

TEST(PthReader, ErrorsNameTheFileAndTheProblem) {
  DEEPLAB_REQUIRE_FIXTURES();
  const std::string legacy = fixture("legacy.pth");
  EXPECT_NE(error_of([&] { read_state_dict(legacy); }).find(legacy + ": legacy"), std::string::npos);
  const std::string unsupported = fixture("unsupported.pth");
  const std::string message = error_of([&] { read_state_dict(unsupported); });
  EXPECT_NE(message.find(unsupported), std::string::npos) << message;
  EXPECT_NE(message.find("builtins.set"), std::string::npos) << message;
  testing::TempDir dir;
  const std::string text = dir.write("notes.pth", "hello");
  EXPECT_NE(error_of([&] { read_state_dict(text); }).find(text + ": not a torch.save file"), std::string::npos);
  const std::string missing = dir.path() + "/missing.pth";
  EXPECT_NE(error_of([&] { read_state_dict(missing); }).find(missing + ": cannot open"), std::string::npos);
  // A checkpoint whose state dict holds a non-tensor names the key.
  const std::string bad = fixture("small_ckpt.pth");
  EXPECT_NE(error_of([&] { state_dict_from_object(read_pth_object(bad)->find("flags"), bad); }).find("holds a list"),
            std::string::npos);
}

TEST(PthReader, TruncatedArchiveIsAnIoError) {
  DEEPLAB_REQUIRE_FIXTURES();
  const std::string bytes = core::read_file(fixture("small.pth"));
  testing::TempDir dir;
  const std::string cut = dir.write("cut.pth", bytes.substr(0, bytes.size() / 2));
  EXPECT_NE(error_of([&] { read_state_dict(cut); }).find(cut), std::string::npos);
}

// A training checkpoint (an OutputArchive, as deeplab train writes it) given
// where weights belong says what it is and what to give instead.
TEST(PthReader, ATrainingCheckpointIsNamedAsOneWithWhatToGiveInstead) {
  testing::TempDir dir;
  const std::string path = dir.file("iter_0000004.ckpt");
  torch::serialize::OutputArchive archive;
  archive.write("model.conv.weight", torch::ones({2, 2}));
  archive.save_to(path);
  const std::string e = error_of([&] { read_state_dict(path); });
  EXPECT_NE(e.find(path + ": a TorchScript archive (a deeplab train checkpoint or an export's model.pt), not a "
                          "weights file: give the run's best.pth or final.pth"),
            std::string::npos)
      << e;
}

Unpickler raw(const std::string& bytes) {
  return Unpickler(
      bytes.data(), bytes.size(), "raw.pkl", [](const PickleRef&) -> PickleRef { throw IoError("pid"); },
      [](const std::string& g, const PickleRef&) -> PickleRef { throw IoError("call " + g); });
}

TEST(Unpickler, UnsupportedOpcodeNamesByteAndOffset) {
  static const std::string bytes("\200\002K\005\377.", 6);
  const std::string message = error_of([&] {
    std::string copy = bytes;
    raw(copy).load();
  });
  EXPECT_NE(message.find("raw.pkl"), std::string::npos) << message;
  EXPECT_NE(message.find("unsupported opcode 0xff"), std::string::npos) << message;
  EXPECT_NE(message.find("offset 4"), std::string::npos) << message;
}

TEST(Unpickler, DecodesScalarsContainersAndMemo) {
  // {'a': (1, -2, 3.5), 'b': [True, None, 'xy'], 'c': <memo of the tuple>, 'a' again: 7}
  std::string p(
      "\200\002}q\000(X\001\000\000\000aK\001J\376\377\377\377G@\014\000\000\000\000\000\000\207q"
      "\001X\001\000\000\000b](\210NX\002\000\000\000xyeX\001\000\000\000ch\001uX\001\000\000\000"
      "a\212\001\007s.",
      69);
  std::string bytes = p;
  const PickleRef v = raw(bytes).load();
  ASSERT_EQ(v->kind, PickleValue::Kind::Dict);
  ASSERT_EQ(v->dict.size(), 3u);
  EXPECT_EQ(v->find("a")->integer, 7);  // re-set key keeps its place, takes the last value
  EXPECT_EQ(v->dict[0].first->text, "a");
  const auto& list = v->find("b")->items;
  ASSERT_EQ(list.size(), 3u);
  EXPECT_TRUE(list[0]->boolean);
  EXPECT_EQ(list[2]->text, "xy");
  const auto& tuple = v->find("c")->items;
  ASSERT_EQ(tuple.size(), 3u);
  EXPECT_EQ(tuple[1]->integer, -2);
  EXPECT_DOUBLE_EQ(tuple[2]->real, 3.5);
}

TEST(Unpickler, TruncatedDataIsAnError) {
  std::string bytes("\200\002X\020\000\000\000ab", 9);
  EXPECT_NE(error_of([&] { raw(bytes).load(); }).find("truncated"), std::string::npos);
}

}  // namespace
}  // namespace deeplab::weights
