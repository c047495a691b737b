// A background thread that runs one function every period until shut down: the shape
// of every small background job in gfs (expiring buffers, declaring servers dead...).
//
// Thread-safe. Shutdown() is idempotent and joins; the destructor calls it.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "common/mutex.h"

namespace gfs {

class PeriodicTask {
 public:
  // Starts running `fn` every `period` (first run after one period).
  PeriodicTask(std::string name, std::chrono::milliseconds period, std::function<void()> fn);
  ~PeriodicTask();
  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;

  // Runs `fn` now instead of at the end of the period.
  void TriggerNow() EXCLUDES(mu_);
  void Shutdown() EXCLUDES(mu_);

 private:
  void Run() EXCLUDES(mu_);

  const std::string name_;
  const std::chrono::milliseconds period_;
  const std::function<void()> fn_;
  Mutex mu_;
  CondVar cv_;
  bool stop_ GUARDED_BY(mu_) = false;
  bool trigger_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace gfs
