// A bounded number of threads running submitted tasks in submission order, started on
// demand, optionally with a bounded queue. The client reads several chunks at once with
// one; the master sends its fan-out calls to chunkservers through one.
//
// Thread-safe.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <limits>
#include <thread>
#include <vector>

#include "common/mutex.h"

namespace gfs {

class WorkerPool {
 public:
  // At most `max_threads` (at least 1) tasks run at once and at most `max_queued` wait.
  explicit WorkerPool(int max_threads, size_t max_queued = std::numeric_limits<size_t>::max());
  // Shutdown().
  ~WorkerPool();

  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `task` and starts another thread if fewer than the maximum run. Returns
  // false, dropping the task, when the queue is full or after Shutdown.
  bool Submit(std::function<void()> task);

  // Drops queued tasks, waits for running ones to return and joins the threads.
  // Idempotent.
  void Shutdown();

 private:
  void Loop();

  const size_t max_threads_;
  const size_t max_queued_;
  Mutex mu_;
  CondVar cv_{&mu_};
  std::deque<std::function<void()>> tasks_ GUARDED_BY(mu_);
  size_t idle_ GUARDED_BY(mu_) = 0;
  bool shutdown_ GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_ GUARDED_BY(mu_);
};

}  // namespace gfs
