#pragma once
// train.tensorboard: what metrics.jsonl holds, as TensorBoard event files in
// the run directory (`tensorboard --logdir work_dirs`): every logged loss
// term, the learning rate and images/s; every score of every evaluation; the
// val_samples grid as an image; the resolved config as text.  Only rank 0
// writes.  A resumed run starts a new file with a SessionLog START at its
// iteration, so TensorBoard drops the old file's steps that the run redoes.

#include <cstdint>
#include <memory>
#include <string>

#include "deeplab/train/hook.h"

namespace deeplab::core {
class EventFileWriter;
}

namespace deeplab::train {

class EvalHook;
class MetricsLog;

class TensorBoardHook : public Hook {
 public:
  /// `eval_ema` (null without train.ema): the weight average's evaluations,
  /// written as eval_ema/<score>.  `config_yaml`: the resolved config, written once as text.
  TensorBoardHook(std::shared_ptr<const MetricsLog> log, std::shared_ptr<const EvalHook> eval,
                  std::shared_ptr<const EvalHook> eval_ema, std::string config_yaml);
  ~TensorBoardHook() override;
  std::string name() const override { return "tensorboard"; }
  void before_train(Trainer& trainer) override;
  void after_step(Trainer& trainer) override;
  void after_train(Trainer& trainer, bool interrupted) override;

  /// The event file (empty before before_train and on ranks other than 0).
  std::string path() const;

 private:
  void write_new_points(Trainer& trainer);
  /// The scores of `eval`'s newest evaluation, once, as <prefix>/<score>.
  void write_scores(const EvalHook& eval, int64_t& written, const std::string& prefix);

  std::shared_ptr<const MetricsLog> log_;
  std::shared_ptr<const EvalHook> eval_, eval_ema_;
  std::string config_yaml_;
  std::unique_ptr<core::EventFileWriter> writer_;
  size_t train_written_ = 0;
  int64_t eval_written_ = -1, eval_ema_written_ = -1;  // iterations of the last evaluations written
};

}  // namespace deeplab::train
