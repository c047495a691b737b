// A count-down latch: Wait() returns once CountDown() was called `count` times. How a
// thread waits for asynchronous calls it started (gRPC callbacks, pool tasks) to end.
//
// Thread-safe.
#pragma once

#include <cstddef>

#include "common/mutex.h"

namespace gfs {

class Latch {
 public:
  explicit Latch(size_t count) : count_(count) {}
  Latch(const Latch&) = delete;
  Latch& operator=(const Latch&) = delete;

  void CountDown() {
    MutexLock lock(&mu_);
    if (count_ > 0 && --count_ == 0) zero_.SignalAll();
  }

  // Blocks until the count is zero. Bounded by whatever bounds the counted calls
  // (their deadlines); the latch itself has none.
  void Wait() {
    MutexLock lock(&mu_);
    while (count_ > 0) zero_.Wait();
  }

 private:
  Mutex mu_;
  CondVar zero_{&mu_};
  size_t count_ GUARDED_BY(mu_);
};

}  // namespace gfs
