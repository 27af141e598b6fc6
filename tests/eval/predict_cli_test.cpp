// `deeplab predict` end to end: on the real VOC sample its label PNG is
// byte-identical to the one `deeplab eval --save-pred` writes, with a colour
// mask and an overlay of the image's size beside it; a video gives a video of
// the same frames, size and rate whose frames are the per-frame predictions;
// a folder run writes what it can read and names what it could not; bad
// inputs are one clear error.

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include <filesystem>
#include <set>
#include <sstream>

#include "deeplab/core/config_io.h"
#include "deeplab/core/fs_util.h"
#include "deeplab/data/sample_io.h"
#include "deeplab/weights/state_dict.h"
#include "tests/eval/eval_test_models.h"
#include "tests/support/test_support.h"

namespace fs = std::filesystem;

namespace deeplab::eval {
namespace {

struct PredictFixture {
  testing::TempDir dir;
  std::string config, weights;

  explicit PredictFixture(const std::string& voc_root) {
    std::ostringstream yaml;
    yaml << "_base_: [" << testing::source_path("configs/_base_/default_runtime.yaml") << "]\n"
         << "model: {arch: deeplabv3, num_classes: 21, backbone: {name: mobilenet_v3_small, output_stride: 16}}\n"
         << "data: {dataset: voc, root: " << voc_root << ", workers: 1}\n"
         << "runtime: {threads: 2}\n";
    config = dir.write("exp.yaml", yaml.str());
    const auto model_config = core::load_config_section<models::ModelConfig>(config, "model");
    weights = dir.file("w.pth");
    weights::save_module_state_dict(*testing::small_random_model(model_config, 11), weights);
  }
};

// `deeplab data synth` writes `num` VOC-layout scenes of `size` into `dir`.
testing::CommandResult synth_voc(const testing::TempDir& dir, int num, const std::string& size, int seed) {
  return testing::run_deeplab("data synth --layout voc --out " + dir.path() + " --num " + std::to_string(num) +
                              " --size " + size + " --seed " + std::to_string(seed));
}

TEST(PredictCli, VocSampleLabelPngIsTheOneEvalSavePredWrites) {
  const std::string samples = testing::samples_dir();
  if (samples.empty()) GTEST_SKIP() << "../shared/samples not found";
  const std::string voc = samples + "/voc2012";
  PredictFixture s(voc);
  auto r = testing::run_deeplab("eval -c " + s.config + " --weights " + s.weights + " --save-pred " +
                                s.dir.file("eval") + " --json " + s.dir.file("eval.json") + " --no-progress");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = testing::run_deeplab("predict -c " + s.config + " --weights " + s.weights + " " + voc +
                           "/JPEGImages/2007_000063.jpg --out " + s.dir.file("out") + " --overlay --no-progress");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("wrote 1 of 1 images"), std::string::npos) << r.output;
  const std::string ours = s.dir.file("out/2007_000063.png");
  EXPECT_EQ(core::read_file(ours), core::read_file(s.dir.file("eval/2007_000063.png")));
  const cv::Mat labels = data::read_label_png(ours);
  std::set<int> classes(labels.begin<uint8_t>(), labels.end<uint8_t>());
  EXPECT_GE(classes.size(), 2u) << "a one-class prediction would prove little";
  for (const char* suffix : {"_color.png", "_overlay.png"}) {
    const cv::Mat picture = cv::imread(s.dir.file(std::string("out/2007_000063") + suffix), cv::IMREAD_COLOR);
    EXPECT_EQ(picture.cols, 500) << suffix;
    EXPECT_EQ(picture.rows, 375) << suffix;
  }
}

// The JPEGs a synth_voc run wrote, in directory order.
std::vector<std::string> synth_jpegs(const testing::TempDir& dir) {
  std::vector<std::string> jpgs;
  for (const auto& e : fs::directory_iterator(dir.path() + "/JPEGImages")) jpgs.push_back(e.path().string());
  return jpgs;
}

TEST(PredictCli, FolderRunWritesWhatItCanReadAndNamesTheRest) {
  testing::TempDir data;
  ASSERT_EQ(synth_voc(data, 2, "40x56", 2).exit_code, 0);
  const std::string photos = data.file("photos");
  fs::create_directories(photos + "/sub");
  const std::vector<std::string> jpgs = synth_jpegs(data);
  ASSERT_GE(jpgs.size(), 2u);
  fs::copy_file(jpgs[0], photos + "/a.jpg");
  fs::copy_file(jpgs[1], photos + "/sub/b.jpg");
  data.write("photos/broken.png", "not a png");
  data.write("photos/notes.txt", "ignored: not an image");
  PredictFixture s(data.path());
  const auto r = testing::run_deeplab("predict -c " + s.config + " --weights " + s.weights + " " + photos + " --out " +
                                      s.dir.file("out") + " --no-progress");
  EXPECT_NE(r.exit_code, 0) << "a run that could not read a file says so in its status";
  EXPECT_NE(r.output.find("wrote 2 of 3 images"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("could not read 1 of 3 inputs"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("photos/broken.png"), std::string::npos) << r.output;
  EXPECT_TRUE(fs::exists(s.dir.file("out/a.png")));
  EXPECT_TRUE(fs::exists(s.dir.file("out/sub/b.png"))) << "folder structure is kept";
  EXPECT_TRUE(fs::exists(s.dir.file("out/sub/b_color.png")));
}

// Writes `frames` copies of `still` as an FFV1 AVI (0 frames: a header only).
void write_clip(const std::string& path, const cv::Mat& still, int frames) {
  cv::VideoWriter writer(path, cv::VideoWriter::fourcc('F', 'F', 'V', '1'), 10, still.size(), true);
  ASSERT_TRUE(writer.isOpened());
  for (int t = 0; t < frames; ++t) writer.write(still);
}

void cut_to(const std::string& path, double fraction) {
  const std::string bytes = core::read_file(path);
  core::write_file_atomic(path, bytes.substr(0, static_cast<size_t>(static_cast<double>(bytes.size()) * fraction)));
}

// A JPEG cut to a third (the decoder would fill it with grey), a video with
// no frames and one cut in half are errors naming the file and why; nothing
// is written for them, and the whole image's outputs are.
TEST(PredictCli, DamagedMediaAreErrorsAndNothingIsWrittenForThem) {
  testing::TempDir data;
  ASSERT_EQ(synth_voc(data, 2, "40x56", 2).exit_code, 0);
  const std::string in = data.file("in");
  fs::create_directories(in);
  const std::vector<std::string> jpgs = synth_jpegs(data);
  fs::copy_file(jpgs[0], in + "/whole.jpg");
  fs::copy_file(jpgs[1], in + "/cut.jpg");
  cut_to(in + "/cut.jpg", 1.0 / 3);
  const cv::Mat still = cv::imread(jpgs[0], cv::IMREAD_COLOR);
  write_clip(in + "/empty.avi", still, 0);
  write_clip(in + "/half.avi", still, 4);
  cut_to(in + "/half.avi", 0.5);
  PredictFixture s(data.path());
  const std::string out = s.dir.file("out");
  const auto r = testing::run_deeplab("predict -c " + s.config + " --weights " + s.weights + " " + in + " --out " +
                                      out + " --no-progress");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("could not read 3 of 4 inputs"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("cut.jpg: the JPEG ends before its end-of-image marker"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("empty.avi: the video has no frames"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("of the 4 frames its container declares"), std::string::npos) << r.output;
  EXPECT_TRUE(fs::exists(out + "/whole.png"));
  std::set<std::string> written;
  for (const auto& e : fs::directory_iterator(out)) written.insert(e.path().filename().string());
  EXPECT_EQ(written, (std::set<std::string>{"whole.png", "whole_color.png"})) << "nothing of the failed inputs";
}

// A 3-second clip: the output video has the input's frame count, size and
// rate, and each of its frames is the colour mask `predict` writes for that
// frame as an image (FFV1 keeps the colours exact).
TEST(PredictCli, VideoFramesEqualPerFrameImagePredictions) {
  testing::TempDir data;
  ASSERT_EQ(synth_voc(data, 1, "48x64", 5).exit_code, 0);
  const std::string jpg = fs::directory_iterator(data.path() + "/JPEGImages")->path().string();
  const cv::Mat still = cv::imread(jpg, cv::IMREAD_COLOR);
  const std::string clip = data.file("clip.avi");
  const double fps = 10;
  const int frames = 30;
  {
    cv::VideoWriter writer(clip, cv::VideoWriter::fourcc('F', 'F', 'V', '1'), fps, still.size(), true);
    ASSERT_TRUE(writer.isOpened());
    for (int t = 0; t < frames; ++t) {
      cv::Mat frame;
      cv::Mat shift = (cv::Mat_<double>(2, 3) << 1, 0, t, 0, 1, t / 2);  // the scene moves
      cv::warpAffine(still, frame, shift, still.size(), cv::INTER_NEAREST, cv::BORDER_REFLECT);
      writer.write(frame);
    }
  }
  // The frames as the decoder gives them, saved as images for per-frame prediction.
  fs::create_directories(data.file("frames"));
  cv::VideoCapture input(clip);
  cv::Mat frame;
  for (int t = 0; input.read(frame); ++t) cv::imwrite(data.file("frames/" + std::to_string(1000 + t) + ".png"), frame);
  PredictFixture s(data.path());
  const std::string predict = "predict -c " + s.config + " --weights " + s.weights + " --no-progress --out ";
  auto r = testing::run_deeplab(predict + s.dir.file("video") + " " + clip);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("30 frames of 64x48 at 10 fps"), std::string::npos) << r.output;
  r = testing::run_deeplab(predict + s.dir.file("images") + " " + data.file("frames"));
  ASSERT_EQ(r.exit_code, 0) << r.output;

  cv::VideoCapture output(s.dir.file("video/clip_color.avi"));
  ASSERT_TRUE(output.isOpened());
  EXPECT_DOUBLE_EQ(output.get(cv::CAP_PROP_FPS), fps);
  std::set<int> colours_seen;
  int t = 0;
  for (; output.read(frame); ++t) {
    const cv::Mat expected =
        cv::imread(s.dir.file("images/" + std::to_string(1000 + t) + "_color.png"), cv::IMREAD_COLOR);
    ASSERT_EQ(frame.size(), expected.size()) << "frame " << t;
    EXPECT_EQ(cv::norm(frame, expected, cv::NORM_INF), 0) << "frame " << t;
    for (auto it = frame.begin<cv::Vec3b>(); it != frame.end<cv::Vec3b>(); ++it) {
      colours_seen.insert((*it)[0] << 16 | (*it)[1] << 8 | (*it)[2]);
    }
  }
  EXPECT_EQ(t, frames);
  EXPECT_GE(colours_seen.size(), 2u) << "one colour everywhere would prove little";

  // Frames in batches of 4 (the last batch holds 2), written on another
  // thread while the next batch runs: the same video, up to
  // the float differences a batched convolution may bring (the bound the
  // batched image test uses: 0.1 % of pixels).
  r = testing::run_deeplab(predict + s.dir.file("batched") + " " + clip + " --batch-size 4 --overlay");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("30 frames of 64x48 at 10 fps"), std::string::npos) << r.output;
  cv::VideoCapture one_by_one(s.dir.file("video/clip_color.avi")), batched(s.dir.file("batched/clip_color.avi"));
  int64_t differing = 0, pixels = 0, batched_frames = 0;
  for (cv::Mat a, b; one_by_one.read(a) && batched.read(b); ++batched_frames) {
    cv::Mat diff;
    cv::absdiff(a, b, diff);
    differing += cv::countNonZero(diff.reshape(1, 0) != 0);
    pixels += a.total();
  }
  EXPECT_EQ(batched_frames, frames);
  EXPECT_LE(differing, pixels / 1000) << differing << " of " << pixels << " pixel channels differ";
  cv::VideoCapture overlay(s.dir.file("batched/clip_overlay.avi"));
  int overlay_frames = 0;
  for (cv::Mat o; overlay.read(o); ++overlay_frames) ASSERT_EQ(o.size(), still.size());
  EXPECT_EQ(overlay_frames, frames) << "the overlay video has every frame too";
}

// `predict --model` runs an export without a config: its meta.json gives
// classes, palette and normalisation, and the labels are the ones the config
// and weights give (the export folds BN as predict does; the layouts differ,
// so a pixel on an exact tie could flip: at most 0.1 % may differ).
TEST(PredictCli, ExportedModelPredictsTheLabelsConfigAndWeightsDo) {
  testing::TempDir data;
  ASSERT_EQ(synth_voc(data, 2, "57x75", 4).exit_code, 0);
  PredictFixture s(data.path());
  auto r = testing::run_deeplab("export -c " + s.config + " --weights " + s.weights + " -o " + s.dir.file("m.pt"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("BN layers folded"), std::string::npos) << r.output;
  const std::string images = data.path() + "/JPEGImages";
  r = testing::run_deeplab("predict -c " + s.config + " --weights " + s.weights + " " + images +
                           " --no-progress --out " + s.dir.file("config"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = testing::run_deeplab("predict --model " + s.dir.file("m.pt") + " " + images + " --no-progress --overlay --out " +
                           s.dir.file("export"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("wrote 2 of 2 images"), std::string::npos) << r.output;
  int compared = 0;
  for (const auto& e : fs::directory_iterator(s.dir.file("config"))) {
    const std::string name = e.path().filename().string();
    if (name.find("_color") != std::string::npos) continue;
    const cv::Mat ours = data::read_label_png(s.dir.file("export/" + name));
    const cv::Mat want = data::read_label_png(e.path().string());
    ASSERT_EQ(ours.size(), want.size()) << name;
    EXPECT_LE(cv::countNonZero(ours != want), want.total() / 1000) << name;
    EXPECT_TRUE(fs::exists(s.dir.file("export/" + e.path().stem().string() + "_overlay.png")));
    ++compared;
  }
  EXPECT_EQ(compared, 2);
}

// --batch-size joins consecutive images of one size (a size change ends a
// batch): every image is still written, with the labels a one-by-one run
// gives (batched kernels may round differently: at most 0.1 % of pixels).
TEST(PredictCli, BatchedRunWritesWhatOneByOneWrites) {
  testing::TempDir data;
  ASSERT_EQ(synth_voc(data, 4, "40x56", 6).exit_code, 0);
  const std::string photos = data.file("photos");
  fs::create_directories(photos);
  std::vector<cv::Mat> images;
  for (const auto& e : fs::directory_iterator(data.path() + "/JPEGImages")) {
    images.push_back(cv::imread(e.path().string(), cv::IMREAD_COLOR));
  }
  ASSERT_EQ(images.size(), 4u);
  cv::Mat resized;
  cv::resize(images[3], resized, cv::Size(64, 48));
  // In sorted order: three 40x56 (one batch), one 48x64, then a 40x56 again.
  const std::vector<cv::Mat> order{images[0], images[1], images[2], resized, images[3]};
  for (size_t i = 0; i < order.size(); ++i) cv::imwrite(photos + "/" + std::to_string(i) + ".png", order[i]);
  PredictFixture s(data.path());
  const std::string predict = "predict -c " + s.config + " --weights " + s.weights + " " + photos + " --no-progress ";
  auto r = testing::run_deeplab(predict + "--out " + s.dir.file("one"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = testing::run_deeplab(predict + "--batch-size 3 --out " + s.dir.file("three"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("wrote 5 of 5 images"), std::string::npos) << r.output;
  for (int i = 0; i < 5; ++i) {
    const std::string name = std::to_string(i) + ".png";
    const cv::Mat one = data::read_label_png(s.dir.file("one/" + name));
    const cv::Mat three = data::read_label_png(s.dir.file("three/" + name));
    ASSERT_EQ(one.size(), three.size()) << name;
    EXPECT_LE(cv::countNonZero(one != three), static_cast<int>(one.total() / 1000)) << name;
  }
}

TEST(PredictCli, ModelAndConfigAreExclusiveAndABadModelFileIsNamed) {
  testing::TempDir data;
  PredictFixture s(data.path());
  const std::string image = data.write("a.jpg", "x");
  auto r = testing::run_deeplab("predict --model " + s.weights + " -c " + s.config + " --weights " + s.weights + " " +
                                image);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("either -c CONFIG --weights W, or --model"), std::string::npos) << r.output;
  r = testing::run_deeplab("predict --model " + s.weights + " " + image);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find(s.weights), std::string::npos) << r.output;
  // A missing export is named as missing (not as "not a TorchScript archive ... errno 2").
  const std::string missing = data.file("no/model.pt");
  r = testing::run_deeplab("predict --model " + missing + " " + image);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find(missing + ": no such file (--model takes the model.pt that deeplab export wrote)"),
            std::string::npos)
      << r.output;
  // A count flag below its minimum says so in whole numbers.
  r = testing::run_deeplab("predict --model " + missing + " --batch-size 0 " + image);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("--batch-size: must be at least 1, got 0"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("1797693"), std::string::npos) << r.output;
}

TEST(PredictCli, BadInputsAreOneErrorNamingThem) {
  testing::TempDir data;
  PredictFixture s(data.path());
  const std::string predict = "predict -c " + s.config + " --weights " + s.weights + " --no-progress ";
  auto r = testing::run_deeplab(predict + data.file("missing.jpg"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("missing.jpg: no such file or folder"), std::string::npos) << r.output;
  fs::create_directories(data.file("empty"));
  r = testing::run_deeplab(predict + data.file("empty"));
  EXPECT_NE(r.output.find("empty: no image or video files"), std::string::npos) << r.output;
  r = testing::run_deeplab(predict + data.write("clip.mp4", "x"));
  EXPECT_NE(r.output.find("clip.mp4: cannot open the video"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace deeplab::eval
