#include "client/bench/bench_result.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace gfs::bench {

void LatencyRecorder::Merge(const LatencyRecorder& other) {
  samples_.insert(samples_.end(), other.samples_.begin(), other.samples_.end());
  sorted_ = false;
}

double LatencyRecorder::Quantile(double q) {
  if (samples_.empty()) return 0;
  if (!sorted_) {
    std::sort(samples_.begin(), samples_.end());
    sorted_ = true;
  }
  size_t index = static_cast<size_t>(q * static_cast<double>(samples_.size() - 1) + 0.5);
  return static_cast<double>(samples_[std::min(index, samples_.size() - 1)]);
}

std::string FormatTable(const std::vector<BenchResult>& results) {
  std::ostringstream out;
  char line[256];
  std::snprintf(line, sizeof(line), "%-14s %7s %10s %12s %10s %10s %10s %8s\n", "workload",
                "threads", "ops", "ops/s", "MB/s", "p50_us", "p99_us", "fsyncs");
  out << line;
  for (const BenchResult& r : results) {
    std::string fsyncs = r.fsyncs < 0 ? "-" : std::to_string(r.fsyncs);
    std::string mbps = r.bytes == 0 ? "-" : std::to_string(r.mb_per_second()).substr(0, 8);
    std::snprintf(line, sizeof(line), "%-14s %7d %10llu %12.0f %10s %10.0f %10.0f %8s\n",
                  r.workload.c_str(), r.threads, static_cast<unsigned long long>(r.ops),
                  r.ops_per_second(), mbps.c_str(), r.p50_us, r.p99_us, fsyncs.c_str());
    out << line;
    if (r.errors > 0) out << "  (" << r.errors << " operations failed)\n";
  }
  return out.str();
}

std::string FormatJson(const std::vector<BenchResult>& results) {
  std::ostringstream out;
  out << "{\"results\":[";
  for (size_t i = 0; i < results.size(); ++i) {
    const BenchResult& r = results[i];
    if (i > 0) out << ",";
    out << "{\"workload\":\"" << r.workload << "\",\"threads\":" << r.threads
        << ",\"ops\":" << r.ops << ",\"errors\":" << r.errors << ",\"seconds\":" << r.seconds
        << ",\"ops_per_s\":" << r.ops_per_second() << ",\"bytes\":" << r.bytes
        << ",\"mb_per_s\":" << r.mb_per_second() << ",\"p50_us\":" << r.p50_us
        << ",\"p99_us\":" << r.p99_us << ",\"fsyncs\":" << r.fsyncs << "}";
  }
  out << "]}";
  return out.str();
}

}  // namespace gfs::bench
