// Time as a seam: production code asks a Clock, unit tests hand in a ManualClock.
#pragma once

#include <atomic>
#include <cstdint>

namespace gfs {

// Thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time, microseconds since the Unix epoch (for mtimes).
  virtual int64_t NowMicros() = 0;
  // Monotonic time in microseconds from an arbitrary origin (for deadlines and leases).
  virtual int64_t MonotonicMicros() = 0;

  // The process-wide real clock; never deleted.
  static Clock* Real();
};

// A clock that moves only when told to. Thread-safe.
class ManualClock : public Clock {
 public:
  explicit ManualClock(int64_t start_micros = 1'700'000'000'000'000) : now_(start_micros) {}
  int64_t NowMicros() override { return now_.load(); }
  int64_t MonotonicMicros() override { return now_.load(); }
  void Advance(int64_t micros) { now_.fetch_add(micros); }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace gfs
