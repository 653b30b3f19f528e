// libtorch's fused AdamW (the kernel behind `torch.optim.AdamW(fused=True)`), which tch 0.26 does
// not wrap: one vectorised pass per parameter instead of the ten elementwise passes the update
// takes when written with tensor ops. The caller holds the moments and step counts (train/adamw.rs).
#include <ATen/ATen.h>
#include <cstring>
#include <vector>

extern "C" {

// Updates `n` parameters in place with their gradients, first and second moments and float step
// counts (already incremented). Returns 0, or -1 with libtorch's message copied into `err`.
int affect_fused_adamw(at::Tensor** params, at::Tensor** grads, at::Tensor** exp_avgs, at::Tensor** exp_avg_sqs,
                       at::Tensor** steps, int n, double lr, double beta1, double beta2, double weight_decay,
                       double eps, char* err, size_t err_len) {
  try {
    std::vector<at::Tensor> p, g, m, v, s;
    for (int i = 0; i < n; ++i) {
      p.push_back(*params[i]);
      g.push_back(*grads[i]);
      m.push_back(*exp_avgs[i]);
      v.push_back(*exp_avg_sqs[i]);
      s.push_back(*steps[i]);
    }
    at::_fused_adamw_(p, g, m, v, {}, s, lr, beta1, beta2, weight_decay, eps, false, false);
    return 0;
  } catch (const std::exception& e) {
    if (err_len > 0) {
      std::strncpy(err, e.what(), err_len - 1);
      err[err_len - 1] = '\0';
    }
    return -1;
  }
}
}
