#include "fuzz/fuzz_bodies.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "deeplab/core/error.h"
#include "deeplab/core/fs_util.h"
#include "deeplab/data/png_io.h"
#include "deeplab/data/sample_io.h"
#include "deeplab/data/video_reader.h"
#include "deeplab/eval/coco_panoptic.h"
#include "deeplab/experiment/config.h"
#include "deeplab/export/export_metadata.h"
#include "deeplab/weights/pth_reader.h"
#include "deeplab/weights/safetensors_reader.h"

namespace deeplab::fuzz {
namespace fs = std::filesystem;
namespace {

// A folder of this process for the files the readers open (they take paths).
const fs::path& scratch_dir() {
  static const fs::path dir = [] {
    const fs::path shm = "/dev/shm";
    fs::path d =
        (fs::is_directory(shm) ? shm : fs::temp_directory_path()) / ("deeplab-fuzz-" + std::to_string(::getpid()));
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

std::string scratch_file(const std::string& name, const std::string& bytes) {
  const std::string path = (scratch_dir() / name).string();
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

// PNG decoding without palette expansion, and the label and id views of it.
void png_label(const std::string& bytes) {
  const std::string path = scratch_file("input.png", bytes);
  try {
    const data::PngImage png = data::read_png(path);
    try {
      (void)data::png_to_ids(png, path);
    } catch (const Error&) {
    }
    (void)data::png_to_labels8(png, path);
  } catch (const Error&) {
  }
  try {
    (void)data::read_label_png(path);
  } catch (const Error&) {
  }
}

// Photos through OpenCV, with the project's cut-short check.
void image(const std::string& bytes) {
  (void)data::image_cut_short(bytes);
  try {
    (void)data::read_rgb_image(scratch_file("input.img", bytes));
  } catch (const Error&) {
  }
}

// Videos through OpenCV's FFmpeg backend, frame by frame (at most 64 frames).
void video(const std::string& bytes) {
  try {
    data::VideoReader reader(scratch_file("input.avi", bytes));
    for (int batch = 0; batch < 16 && !reader.read(4).empty(); ++batch) {
    }
    reader.check_complete();
  } catch (const Error&) {
  }
}

// A .pth file: zip container (or the legacy tar/pickle layouts) and unpickler.
void pth(const std::string& bytes) {
  try {
    (void)weights::read_state_dict(scratch_file("input.pth", bytes));
  } catch (const Error&) {
  }
}

void safetensors(const std::string& bytes) {
  try {
    (void)weights::read_safetensors(scratch_file("input.safetensors", bytes));
  } catch (const Error&) {
  }
}

// An experiment YAML that may name base.yaml in `_base_`; lines after a line
// "#--set" are --set overrides.
void config(const std::string& bytes) {
  static const std::string base =
      scratch_file("base.yaml",
                   "model: {arch: deeplabv3, num_classes: 21, backbone: {name: mobilenet_v3_small}}\n"
                   "data: {dataset: voc, crop_size: [64, 64], batch_size: 2}\n"
                   "train: {max_iters: 4, lr: 0.01}\nruntime: {threads: 1, device: cpu}\n");
  const size_t split = bytes.find("\n#--set\n");
  std::vector<std::string> overrides;
  if (split != std::string::npos) {
    std::string line;
    for (size_t i = split + 8; i <= bytes.size(); ++i) {
      if (i == bytes.size() || bytes[i] == '\n') {
        if (!line.empty()) overrides.push_back(line);
        line.clear();
      } else {
        line += bytes[i];
      }
    }
  }
  try {
    (void)experiment::load_config(scratch_file("main.yaml", bytes.substr(0, split)), overrides);
  } catch (const Error&) {
  }
}

void coco_panoptic_json(const std::string& bytes) {
  try {
    (void)eval::read_panoptic_json(scratch_file("panoptic.json", bytes));
  } catch (const Error&) {
  }
}

// The meta.json an export stores inside model.pt.
void meta_json(const std::string& bytes) {
  try {
    (void)exporting::metadata_from_json(bytes, "meta.json");
  } catch (const Error&) {
  }
}

}  // namespace

const std::vector<FuzzBody>& fuzz_bodies() {
  static const std::vector<FuzzBody> bodies = {
      {"png_label", png_label},
      {"image", image},
      {"video", video},
      {"pth", pth},
      {"safetensors", safetensors},
      {"config", config},
      {"coco_panoptic_json", coco_panoptic_json},
      {"meta_json", meta_json},
  };
  return bodies;
}

const FuzzBody* find_fuzz_body(const std::string& name) {
  for (const FuzzBody& body : fuzz_bodies()) {
    if (name == body.name) return &body;
  }
  return nullptr;
}

}  // namespace deeplab::fuzz
