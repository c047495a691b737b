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

  double ops_per_second() const { return seconds > 0 ? ops / seconds : 0; }
  double mb_per_second() const { return seconds > 0 ? bytes / seconds / 1e6 : 0; }
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

// Prints results as an aligned table.
std::string FormatTable(const std::vector<BenchResult>& results);
// Prints results as one JSON object: {"results": [{...}, ...]}.
std::string FormatJson(const std::vector<BenchResult>& results);

}  // namespace gfs::bench
