// CPU autocast for tch: tch 0.26 only reaches at::autocast's CUDA switch, and PyTorch's
// best CPU training recipe is `torch.autocast("cpu", dtype=torch.bfloat16)`. These two
// calls turn the same dispatcher mode on and off for the calling thread.
#include <ATen/autocast_mode.h>

extern "C" {

// Turns bf16 autocast on for CPU ops on this thread; returns 1 when it was already on.
int affect_cpu_autocast_enter() {
  try {
    bool was = at::autocast::is_autocast_enabled(at::kCPU);
    at::autocast::set_autocast_enabled(at::kCPU, true);
    at::autocast::set_autocast_dtype(at::kCPU, at::kBFloat16);
    at::autocast::increment_nesting();
    return was ? 1 : 0;
  } catch (...) {
    return -1;
  }
}

// Restores the state `enter` returned and drops the cached bf16 weight copies at the outermost exit.
void affect_cpu_autocast_exit(int was) {
  try {
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    at::autocast::set_autocast_enabled(at::kCPU, was == 1);
  } catch (...) {
  }
}
}
