// Denormal floats flushed to zero (FTZ) and read as zero (DAZ) on the CPU, what
// `torch.set_flush_denormal(True)` does, but on every thread of libtorch's OpenMP pool as well as
// the caller: the flags live in each thread's MXCSR, and the pool's threads may already exist.
// Threads created later copy the creating thread's flags.
#include <ATen/Context.h>
#include <dlfcn.h>
#include <atomic>

namespace {

struct Request {
  bool on;
  std::atomic<int> ok;
};

void on_each_thread(void* data) {
  auto* r = static_cast<Request*>(data);
  if (!at::globalContext().setFlushDenormal(r->on)) r->ok = 0;
}

// libgomp's entry point behind `#pragma omp parallel`, the one libtorch's parallel regions use
// (0 threads: the team size they get). Looked up at run time: libtorch loads libgomp, we do not
// link it, and a libtorch on another thread pool simply lacks it.
using GompParallel = void (*)(void (*)(void*), void*, unsigned, unsigned);

}  // namespace

extern "C" {

// Sets the mode on the calling thread and on its OpenMP team. Returns 1 when every thread took
// it, 0 when the CPU cannot (no DAZ), -1 on a C++ exception.
int affect_flush_denormals(int on) {
  try {
    Request r{on != 0, {1}};
    on_each_thread(&r);
    if (auto gomp = reinterpret_cast<GompParallel>(dlsym(RTLD_DEFAULT, "GOMP_parallel"))) {
      gomp(on_each_thread, &r, 0, 0);
    }
    return r.ok.load();
  } catch (...) {
    return -1;
  }
}
}
