#include "deeplab/train/plots.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>

#include "deeplab/core/error.h"
#include "deeplab/data/image_writer.h"

namespace deeplab::train {
namespace {

const cv::Scalar kInk(40, 40, 40), kGrid(225, 225, 225);

std::string short_number(double v) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.3g", v);
  return text;
}

// One panel: axes, min/max labels, and the (x, y) series as a polyline.
void draw_panel(cv::Mat& canvas, cv::Rect area, const std::string& title, const std::vector<double>& xs,
                const std::vector<double>& ys, const cv::Scalar& color) {
  cv::rectangle(canvas, area, kGrid, 1);
  cv::putText(canvas, title, {area.x + 6, area.y + 18}, cv::FONT_HERSHEY_SIMPLEX, 0.5, kInk, 1, cv::LINE_AA);
  if (xs.empty()) {
    cv::putText(canvas, "no data yet", {area.x + 6, area.y + 40}, cv::FONT_HERSHEY_SIMPLEX, 0.4, kInk, 1);
    return;
  }
  const auto [y_min_it, y_max_it] = std::minmax_element(ys.begin(), ys.end());
  double y_min = *y_min_it, y_max = *y_max_it;
  if (y_max - y_min < 1e-12) y_max = y_min + 1e-12;
  const double x_min = xs.front(), x_max = std::max(xs.back(), xs.front() + 1);
  const cv::Rect plot(area.x + 50, area.y + 28, area.width - 60, area.height - 48);
  auto to_point = [&](double x, double y) {
    return cv::Point(plot.x + static_cast<int>((x - x_min) / (x_max - x_min) * plot.width),
                     plot.y + plot.height - static_cast<int>((y - y_min) / (y_max - y_min) * plot.height));
  };
  std::vector<cv::Point> points;
  for (size_t i = 0; i < xs.size(); ++i) points.push_back(to_point(xs[i], ys[i]));
  cv::polylines(canvas, points, false, color, 2, cv::LINE_AA);
  if (points.size() == 1) cv::circle(canvas, points[0], 3, color, cv::FILLED);
  const auto small = cv::FONT_HERSHEY_SIMPLEX;
  cv::putText(canvas, short_number(y_max), {area.x + 4, plot.y + 8}, small, 0.35, kInk, 1, cv::LINE_AA);
  cv::putText(canvas, short_number(y_min), {area.x + 4, plot.y + plot.height}, small, 0.35, kInk, 1, cv::LINE_AA);
  cv::putText(canvas, short_number(x_min), {plot.x, plot.y + plot.height + 14}, small, 0.35, kInk, 1, cv::LINE_AA);
  cv::putText(canvas, "iter " + short_number(x_max), {plot.x + plot.width - 70, plot.y + plot.height + 14}, small, 0.35,
              kInk, 1, cv::LINE_AA);
}

void write_png(const std::string& path, const cv::Mat& image) { data::write_bgr_image(image, path); }

}  // namespace

void write_curves(const MetricsLog& log, const std::string& path) {
  std::vector<double> it, loss, lr, eval_it, score;
  for (const auto& p : log.train()) {
    it.push_back(static_cast<double>(p.iteration));
    loss.push_back(p.loss);
    lr.push_back(p.lr);
  }
  const std::vector<EvalPoint> evaluations = log.eval("model");  // the weights themselves, not their average
  for (const auto& p : evaluations) {
    eval_it.push_back(static_cast<double>(p.iteration));
    score.push_back(p.score);
  }
  cv::Mat canvas(300, 960, CV_8UC3, cv::Scalar(255, 255, 255));
  draw_panel(canvas, {0, 0, 320, 300}, "training loss", it, loss, cv::Scalar(180, 90, 30));
  draw_panel(canvas, {320, 0, 320, 300}, "learning rate", it, lr, cv::Scalar(40, 140, 40));
  const std::string metric = evaluations.empty() ? "mIoU" : evaluations.back().metric;
  draw_panel(canvas, {640, 0, 320, 300}, "val " + metric, eval_it, score, cv::Scalar(30, 30, 200));
  write_png(path, canvas);
}

void write_samples_grid(const std::vector<std::string>& row_images, const std::string& path) {
  std::vector<cv::Mat> lines;
  for (const auto& file : row_images) {
    cv::Mat line = cv::imread(file, cv::IMREAD_COLOR);
    if (line.empty()) throw IoError("cannot read visualisation '" + file + "'");
    lines.push_back(line);
  }
  if (lines.empty()) return;
  // Rows may differ in size (whole validation images): pad to the widest.
  int width = 0;
  for (const auto& l : lines) width = std::max(width, l.cols);
  for (auto& l : lines) {
    cv::copyMakeBorder(l, l, 0, 4, 0, width - l.cols, cv::BORDER_CONSTANT, cv::Scalar(255, 255, 255));
  }
  cv::Mat grid;
  cv::vconcat(lines, grid);
  write_png(path, grid);
}

}  // namespace deeplab::train
