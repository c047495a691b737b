// What one gfs-bench workload run measured, and how it is printed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gfs::bench {

struct BenchResult {
  std::string workload;
  int threads = 0;
  uint64_t ops = 0;
  uint64_t errors = 0;
  double seconds = 0;
  uint64_t bytes = 0;  // data moved, for data workloads (0 for metadata)
  double p50_us = 0;
  double p99_us = 0;
  // Master op-log fsyncs during the run (-1 when not measured).
  int64_t fsyncs = -1;
  // CPU seconds (user + sys) the daemons given by --daemon_pids spent during the run,
  // and this process's own (the client's); -1 when not measured.
  double daemon_cpu_seconds = -1;
  double client_cpu_seconds = -1;
  // How to read the numbers (what one op is, whether the page cache was dropped, ...).
  std::string note;

  double ops_per_second() const { return seconds > 0 ? ops / seconds : 0; }
  double mb_per_second() const { return seconds > 0 ? bytes / seconds / 1e6 : 0; }
  // CPU seconds per GiB of `bytes`; -1 when the CPU was not measured or no bytes moved.
  double daemon_cpu_per_gib() const { return PerGib(daemon_cpu_seconds); }
  double client_cpu_per_gib() const { return PerGib(client_cpu_seconds); }

 private:
  double PerGib(double cpu) const {
    return cpu < 0 || bytes == 0 ? -1 : cpu / (static_cast<double>(bytes) / (1ull << 30));
  }
};

// A workload that was asked for but cannot be measured (yet), and why. Printed as such,
// never as a number.
struct NotMeasured {
  std::string workload;
  std::string reason;
};

// Collects per-operation latencies of one thread; merged at the end of a run.
class LatencyRecorder {
 public:
  void Add(uint64_t micros) { samples_.push_back(micros); }
  void Merge(const LatencyRecorder& other);
  // The q-quantile (0 < q < 1) of the samples, in microseconds; 0 when empty.
  double Quantile(double q);
  size_t size() const { return samples_.size(); }

 private:
  std::vector<uint64_t> samples_;
  bool sorted_ = false;
};

// Prints results as an aligned table, then the workloads not measured.
std::string FormatTable(const std::vector<BenchResult>& results,
                        const std::vector<NotMeasured>& not_measured = {});
// Prints results as one JSON object:
// {"results": [{...}, ...], "not_measured": [{"workload": ..., "reason": ...}, ...]}.
std::string FormatJson(const std::vector<BenchResult>& results,
                       const std::vector<NotMeasured>& not_measured = {});

}  // namespace gfs::bench
