// Exponential backoff with jitter between the attempts of one retried operation.
//
// Not thread-safe: one per retry loop.
#pragma once

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>

namespace gfs::client {

class RetryBackoff {
 public:
  using Clock = std::chrono::steady_clock;

  RetryBackoff(std::chrono::milliseconds initial, std::chrono::milliseconds max)
      : pause_(std::max(initial, std::chrono::milliseconds(1))), max_(max) {}

  // Sleeps a random time between half and all of the current pause, then doubles the
  // pause up to the maximum. Returns false without sleeping if the pause would reach
  // past `deadline`.
  bool SleepUnless(Clock::time_point deadline) {
    if (Clock::now() + pause_ >= deadline) return false;
    thread_local std::mt19937 rng(std::random_device{}());
    std::uniform_int_distribution<int64_t> dist(pause_.count() / 2, pause_.count());
    std::this_thread::sleep_for(std::chrono::milliseconds(dist(rng)));
    pause_ = std::min(pause_ * 2, max_);
    return true;
  }

 private:
  std::chrono::milliseconds pause_;
  const std::chrono::milliseconds max_;
};

}  // namespace gfs::client
