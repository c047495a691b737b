#include "common/periodic_task.h"

namespace gfs {

PeriodicTask::PeriodicTask(std::string name, std::chrono::milliseconds period,
                           std::function<void()> fn)
    : name_(std::move(name)), period_(period), fn_(std::move(fn)), cv_(&mu_) {
  thread_ = std::thread([this] { Run(); });
}

PeriodicTask::~PeriodicTask() { Shutdown(); }

void PeriodicTask::TriggerNow() {
  MutexLock lock(&mu_);
  trigger_ = true;
  cv_.SignalAll();
}

void PeriodicTask::Shutdown() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
    cv_.SignalAll();
  }
  if (thread_.joinable()) thread_.join();
}

void PeriodicTask::Run() {
  while (true) {
    {
      MutexLock lock(&mu_);
      const auto deadline = std::chrono::steady_clock::now() + period_;
      while (!stop_ && !trigger_) {
        const auto now = std::chrono::steady_clock::now();
        if (now >= deadline) break;
        cv_.WaitFor(deadline - now);
      }
      if (stop_) return;
      trigger_ = false;
    }
    fn_();
  }
}

}  // namespace gfs
