#include "deeplab/train/ema_hook.h"

#include "deeplab/train/trainer.h"
#include "deeplab/weights/state_dict.h"

namespace deeplab::train {

void EmaHook::after_step(Trainer& trainer) { average_->update(*trainer.model(), trainer.state().iteration); }

void EmaHook::after_train(Trainer& trainer, bool interrupted) {
  if (interrupted || !trainer.is_main_process()) return;
  const WeightAverage::Applied averaged(*average_, *trainer.model());
  weights::save_module_state_dict(*trainer.model(), trainer.work_dir() + "/final_ema.pth");
}

}  // namespace deeplab::train
