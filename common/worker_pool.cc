#include "common/worker_pool.h"

#include <algorithm>
#include <chrono>

namespace gfs {

WorkerPool::WorkerPool(int max_threads, size_t max_queued)
    : max_threads_(static_cast<size_t>(std::max(max_threads, 1))), max_queued_(max_queued) {}

WorkerPool::~WorkerPool() { Shutdown(); }

bool WorkerPool::Submit(std::function<void()> task) {
  MutexLock lock(&mu_);
  if (shutdown_ || tasks_.size() >= max_queued_) return false;
  tasks_.push_back(std::move(task));
  if (idle_ < tasks_.size() && threads_.size() < max_threads_) {
    threads_.emplace_back([this] { Loop(); });
  }
  cv_.Signal();
  return true;
}

void WorkerPool::Shutdown() {
  std::vector<std::thread> threads;
  {
    MutexLock lock(&mu_);
    shutdown_ = true;
    tasks_.clear();
    threads.swap(threads_);
    cv_.SignalAll();
  }
  for (std::thread& t : threads) t.join();
}

void WorkerPool::Loop() {
  mu_.Lock();
  while (true) {
    if (shutdown_) break;
    if (tasks_.empty()) {
      ++idle_;
      // Woken by Submit or Shutdown; the timeout only guards against a lost wake-up.
      cv_.WaitFor(std::chrono::seconds(1));
      --idle_;
      continue;
    }
    std::function<void()> task = std::move(tasks_.front());
    tasks_.pop_front();
    mu_.Unlock();
    task();
    mu_.Lock();
  }
  mu_.Unlock();
}

}  // namespace gfs
