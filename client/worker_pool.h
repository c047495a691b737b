// A fixed number of threads running submitted tasks in submission order, started on
// demand. The reader uses one to fetch several chunks at once.
//
// Thread-safe.
#pragma once

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "common/mutex.h"

namespace gfs::client {

class WorkerPool {
 public:
  // At most `max_threads` (at least 1) tasks run at once.
  explicit WorkerPool(int max_threads);
  // Shutdown().
  ~WorkerPool();

  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `task`; starts another thread if fewer than the maximum run. After Shutdown
  // the task is dropped.
  void Submit(std::function<void()> task);

  // Drops queued tasks, waits for running ones to return and joins the threads.
  // Idempotent.
  void Shutdown();

 private:
  void Loop();

  const size_t max_threads_;
  Mutex mu_;
  CondVar cv_{&mu_};
  std::deque<std::function<void()>> tasks_ GUARDED_BY(mu_);
  size_t idle_ GUARDED_BY(mu_) = 0;
  bool shutdown_ GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_ GUARDED_BY(mu_);
};

}  // namespace gfs::client
