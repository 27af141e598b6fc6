#include "deeplab/data/synth/scene_generator.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <array>
#include <random>

#include "deeplab/data/synth/canvas.h"

namespace deeplab::data::synth {

namespace {

struct ClassStyle {
  Shape shape;
  Texture texture;
};

// Every class has its own outline and its own texture, so each pixel carries
// its class in its neighbourhood (texture) and the object as a whole in its
// outline -- learnable from scratch in minutes, but never by colour: both
// texture colours come from the distribution every class and the background
// share.  No class wears a background texture (plain or smooth clouds), and
// no two classes' textures are mirror images (horizontal flips are an
// augmentation).
constexpr std::array<ClassStyle, kMaxVocObjectClasses> kVocStyles = {{
    {Shape::kEllipse, Texture::kStripes},
    {Shape::kRectangle, Texture::kChecker},
    {Shape::kTriangle, Texture::kDots},
    {Shape::kStar, Texture::kChevron},
    {Shape::kRing, Texture::kDiagonal},
    {Shape::kDiamond, Texture::kColumns},
}};

constexpr std::array<Texture, 2> kBackgroundTextures = {Texture::kClouds, Texture::kPlain};

void add_object(Scene& s, cv::Mat& mask, const ClassStyle& style, int value, double radius, std::mt19937_64& rng) {
  mask.setTo(0);
  const cv::Point2d c(rand_real(rng, 0, s.image.cols), rand_real(rng, 0, s.image.rows));
  draw_shape(mask, style.shape, c, radius, rand_real(rng, 0, 2 * CV_PI));
  // The pattern's period does not follow the object's size: small objects
  // still show a few periods, large ones are not blown-up blotches.  At least
  // ~4 px, so the stride-2 stem of a backbone does not alias it away.
  const double period = rand_real(rng, 4.5, 7);
  const cv::Mat patch = make_texture(style.texture, s.image.size(), period, rng);
  cv::Mat none;
  paint(s.image, s.label, none, mask, patch, value, 0);
}

}  // namespace

Scene render_voc_scene(int height, int width, int num_classes, uint64_t seed, bool void_boundaries) {
  std::mt19937_64 rng(seed);
  num_classes = std::clamp(num_classes, 1, kMaxVocObjectClasses);
  Scene s;
  const cv::Size size(width, height);
  const int short_side = std::min(height, width);
  const Texture bg = kBackgroundTextures[static_cast<size_t>(rand_int(rng, 0, kBackgroundTextures.size() - 1))];
  // Smooth and coarse (clouds of 12-24 px): the background has neither edges
  // that mimic object outlines nor a pattern that mimics an object's texture.
  s.image = make_texture(bg, size, rand_real(rng, 12, 24), rng);
  s.label = cv::Mat::zeros(size, CV_8UC1);
  cv::Mat mask(size, CV_8UC1);
  const int objects = rand_int(rng, 2, 6);
  for (int i = 0; i < objects; ++i) {
    const int cls = rand_int(rng, 1, num_classes);
    const double radius = short_side * rand_real(rng, 0.1, 0.35);                     // scale variation
    add_object(s, mask, kVocStyles[static_cast<size_t>(cls - 1)], cls, radius, rng);  // later ones occlude
  }
  // VOC marks object outlines as void (255): pixels whose 3x3 neighbourhood holds another class.
  if (void_boundaries) {
    cv::Mat lo, hi;
    const cv::Mat kernel = cv::getStructuringElement(cv::MORPH_RECT, cv::Size(3, 3));
    cv::erode(s.label, lo, kernel, cv::Point(-1, -1), 1, cv::BORDER_REPLICATE);
    cv::dilate(s.label, hi, kernel, cv::Point(-1, -1), 1, cv::BORDER_REPLICATE);
    s.label.setTo(255, lo != hi);
  }
  cv::GaussianBlur(s.image, s.image, cv::Size(3, 3), 0.6);  // soften edges like a camera would
  return s;
}

namespace {

// Cityscapes labelIds used by the street scenes.
constexpr int kEgo = 1, kRoad = 7, kSidewalk = 8, kBuilding = 11, kPole = 17, kSign = 20, kVegetation = 21,
              kTerrain = 22, kSky = 23, kPerson = 24, kCar = 26, kBicycle = 33;

struct Street {
  Scene& s;
  cv::Mat mask;
  std::mt19937_64& rng;
  std::array<int, 34> next_instance{};

  void region(const cv::Mat& m, Texture t, double period, int id, int instance) {
    const cv::Mat patch = make_texture(t, s.image.size(), std::max(2.0, period), rng);
    paint(s.image, s.label, s.instances, m, patch, id, instance);
  }
  void rect(int id, Texture t, double period, cv::Rect r) {
    mask.setTo(0);
    cv::rectangle(mask, r, 255, -1);
    region(mask, t, period, id, id);
  }
  int new_instance(int id) { return id * 1000 + next_instance[static_cast<size_t>(id)]++; }
};

void draw_car(Street& st, cv::Point base, int w, int instance) {
  st.mask.setTo(0);
  cv::rectangle(st.mask, cv::Rect(base.x, base.y - w / 2, w, w / 3), 255, -1);                      // body
  cv::rectangle(st.mask, cv::Rect(base.x + w / 5, base.y - w * 3 / 4, w * 3 / 5, w / 4), 255, -1);  // cabin
  cv::circle(st.mask, cv::Point(base.x + w / 5, base.y - w / 6), w / 8, 255, -1);                   // wheels
  cv::circle(st.mask, cv::Point(base.x + 4 * w / 5, base.y - w / 6), w / 8, 255, -1);
  st.region(st.mask, Texture::kPlain, 4, kCar, instance);
}

void draw_person(Street& st, cv::Point feet, int h, int instance, bool fresh_mask = true) {
  if (fresh_mask) st.mask.setTo(0);
  cv::ellipse(st.mask, cv::Point(feet.x, feet.y - h * 45 / 100),
              cv::Size(std::max(1, h / 8), std::max(1, h * 45 / 100)), 0, 0, 360, 255, -1);
  cv::circle(st.mask, cv::Point(feet.x, feet.y - h * 95 / 100), std::max(1, h / 10), 255, -1);
  if (fresh_mask) st.region(st.mask, Texture::kStripes, std::max(2, h / 12), kPerson, instance);
}

void draw_bicycle(Street& st, cv::Point base, int w, int instance) {
  st.mask.setTo(0);
  const int r = std::max(2, w / 4), t = std::max(1, w / 16);
  cv::circle(st.mask, cv::Point(base.x + r, base.y - r), r, 255, t);
  cv::circle(st.mask, cv::Point(base.x + w - r, base.y - r), r, 255, t);
  cv::line(st.mask, cv::Point(base.x + r, base.y - r), cv::Point(base.x + w / 2, base.y - 2 * r), 255, t);
  cv::line(st.mask, cv::Point(base.x + w / 2, base.y - 2 * r), cv::Point(base.x + w - r, base.y - r), 255, t);
  st.region(st.mask, Texture::kPlain, 4, kBicycle, instance);
}

// A row of 2-3 cars parked bumper to bumper: instances of one class that
// touch, which Panoptic-DeepLab must split by their centres alone.  Each car
// starts where the previous one's body ends (or up to 5% earlier), so the
// bodies are 4-neighbours; sizes vary a little, as parked cars do.
void draw_parked_row(Street& st, int H, int W, int horizon) {
  const int count = rand_int(st.rng, 2, 3);
  const double depth = rand_real(st.rng, 0.25, 1);
  const int y = horizon + static_cast<int>(depth * (H - horizon) * 0.85);
  const int base_w = std::max(6, static_cast<int>(W * 0.18 * (0.3 + depth)));
  std::vector<int> widths;
  int total = 0;
  for (int i = 0; i < count; ++i) {
    widths.push_back(std::max(6, static_cast<int>(base_w * rand_real(st.rng, 0.9, 1.1))));
    total += widths.back();
  }
  int x = rand_int(st.rng, 0, std::max(0, W - total));
  for (int w : widths) {
    draw_car(st, {x, y}, w, st.new_instance(kCar));
    x += w - rand_int(st.rng, 0, w / 20);
  }
}

void draw_background(Street& st, int H, int W, int horizon) {
  st.rect(kSky, Texture::kPlain, 8, cv::Rect(0, 0, W, horizon));
  for (int x = 0; x < W;) {  // buildings of varied width and height
    const int bw = rand_int(st.rng, W / 8, W / 3), top = rand_int(st.rng, horizon / 5, horizon * 4 / 5);
    st.rect(kBuilding, Texture::kGrid, bw / 6.0, cv::Rect(x, top, bw, horizon - top + 1));
    x += bw;
  }
  for (int i = rand_int(st.rng, 1, 3); i > 0; --i) {  // trees
    st.mask.setTo(0);
    const cv::Point c(rand_int(st.rng, 0, W), horizon - rand_int(st.rng, 0, H / 10));
    cv::ellipse(st.mask, c, cv::Size(rand_int(st.rng, W / 16, W / 6), rand_int(st.rng, H / 10, H / 5)), 0, 0, 360, 255,
                -1);
    st.region(st.mask, Texture::kNoise, H / 30.0, kVegetation, kVegetation);
  }
  st.rect(kSidewalk, Texture::kChecker, H / 40.0, cv::Rect(0, horizon, W, H - horizon));
  st.mask.setTo(0);  // the road: a trapezoid narrowing to the horizon
  std::vector<std::vector<cv::Point>> road{{{W * 2 / 5, horizon}, {W * 3 / 5, horizon}, {W, H}, {0, H}}};
  cv::fillPoly(st.mask, road, 255);
  st.region(st.mask, Texture::kPlain, 8, kRoad, kRoad);
  st.rect(kTerrain, Texture::kDots, H / 50.0, cv::Rect(0, horizon, W / 10, H / 8));
  const int pole_x = rand_int(st.rng, W / 20, W / 4), pole_w = std::max(2, W / 100);
  st.rect(kPole, Texture::kPlain, 4, cv::Rect(pole_x, horizon - H / 5, pole_w, H / 4));
  st.mask.setTo(0);
  cv::circle(st.mask, cv::Point(pole_x + pole_w / 2, horizon - H / 5), std::max(2, H / 40), 255, -1);
  st.region(st.mask, Texture::kRings, std::max(2, H / 120), kSign, kSign);
}

}  // namespace

Scene render_cityscapes_scene(int height, int width, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Scene s;
  const cv::Size size(width, height);
  s.image = cv::Mat::zeros(size, CV_8UC3);
  s.label = cv::Mat::zeros(size, CV_8UC1);
  s.instances = cv::Mat::zeros(size, CV_32SC1);
  Street st{s, cv::Mat(size, CV_8UC1), rng, {}};
  const int horizon = height * rand_int(rng, 38, 50) / 100;
  draw_background(st, height, width, horizon);
  // Objects farther away (closer to the horizon) are smaller and drawn first, so near ones occlude them.
  std::vector<std::pair<double, int>> things;  // (depth 0..1, kind)
  for (int i = rand_int(rng, 2, 4); i > 0; --i) things.emplace_back(rand_real(rng, 0.1, 1), kCar);
  for (int i = rand_int(rng, 2, 4); i > 0; --i) things.emplace_back(rand_real(rng, 0.1, 1), kPerson);
  for (int i = rand_int(rng, 1, 2); i > 0; --i) things.emplace_back(rand_real(rng, 0.1, 1), kBicycle);
  std::sort(things.begin(), things.end());
  for (const auto& [depth, kind] : things) {
    const int y = horizon + static_cast<int>(depth * (height - horizon) * 0.85);
    const int x = rand_int(rng, 0, width * 9 / 10);
    const double k = 0.3 + depth;
    if (kind == kCar) draw_car(st, {x, y}, static_cast<int>(width * 0.18 * k), st.new_instance(kCar));
    if (kind == kPerson) draw_person(st, {x, y}, static_cast<int>(height * 0.3 * k), st.new_instance(kPerson));
    if (kind == kBicycle) draw_bicycle(st, {x, y}, static_cast<int>(width * 0.1 * k), st.new_instance(kBicycle));
  }
  // A crowd: overlapping persons labelled person but with no instance id (instanceIds = 24).
  st.mask.setTo(0);
  const int crowd_x = rand_int(rng, width / 2, width * 4 / 5), crowd_h = height / 6;
  for (int i = 0; i < 5; ++i) draw_person(st, {crowd_x + i * crowd_h / 5, horizon + height / 12}, crowd_h, 0, false);
  st.region(st.mask, Texture::kStripes, std::max(2, crowd_h / 12), kPerson, kPerson);
  st.rect(kEgo, Texture::kPlain, 4, cv::Rect(0, height * 94 / 100, width, height - height * 94 / 100));
  // Last, so that nothing hides where the parked cars touch, and drawing from
  // the rng after everything else leaves the rest of the scene as it was.  It
  // never reaches the ego vehicle: the cars stand above y = 0.925 * height.
  draw_parked_row(st, height, width, horizon);
  cv::GaussianBlur(s.image, s.image, cv::Size(3, 3), 0.6);
  return s;
}

}  // namespace deeplab::data::synth
