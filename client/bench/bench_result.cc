#include "client/bench/bench_result.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace gfs::bench {
namespace {

// A JSON string literal of `s`.
std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

// A JSON number, or null for "not measured" (negative) and non-finite values.
std::string JsonNumberOrNull(double v) {
  if (v < 0 || !std::isfinite(v)) return "null";
  std::ostringstream out;
  out << v;
  return out.str();
}

}  // namespace

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

std::string FormatTable(const std::vector<BenchResult>& results,
                        const std::vector<NotMeasured>& not_measured) {
  std::ostringstream out;
  char line[512];
  std::snprintf(line, sizeof(line), "%-16s %7s %10s %12s %10s %10s %10s %8s %10s\n", "workload",
                "threads", "ops", "ops/s", "MB/s", "p50_us", "p99_us", "fsyncs", "cpu_s/GiB");
  out << line;
  for (const BenchResult& r : results) {
    std::string fsyncs = r.fsyncs < 0 ? "-" : std::to_string(r.fsyncs);
    std::string mbps = r.bytes == 0 ? "-" : std::to_string(r.mb_per_second()).substr(0, 8);
    std::string cpu = "-";
    if (r.daemon_cpu_per_gib() >= 0) {
      char buf[32];
      std::snprintf(buf, sizeof(buf), "%.1f", r.daemon_cpu_per_gib());
      cpu = buf;
    }
    std::snprintf(line, sizeof(line), "%-16s %7d %10llu %12.0f %10s %10.0f %10.0f %8s %10s\n",
                  r.workload.c_str(), r.threads, static_cast<unsigned long long>(r.ops),
                  r.ops_per_second(), mbps.c_str(), r.p50_us, r.p99_us, fsyncs.c_str(),
                  cpu.c_str());
    out << line;
    if (r.errors > 0) out << "  (" << r.errors << " operations failed)\n";
    if (!r.note.empty()) out << "  note: " << r.note << "\n";
  }
  for (const NotMeasured& n : not_measured) {
    std::snprintf(line, sizeof(line), "%-16s not measured: %s\n", n.workload.c_str(),
                  n.reason.c_str());
    out << line;
  }
  return out.str();
}

std::string FormatJson(const std::vector<BenchResult>& results,
                       const std::vector<NotMeasured>& not_measured) {
  std::ostringstream out;
  out << "{\"results\":[";
  for (size_t i = 0; i < results.size(); ++i) {
    const BenchResult& r = results[i];
    if (i > 0) out << ",";
    out << "{\"workload\":" << JsonString(r.workload) << ",\"threads\":" << r.threads
        << ",\"ops\":" << r.ops << ",\"errors\":" << r.errors << ",\"seconds\":" << r.seconds
        << ",\"ops_per_s\":" << r.ops_per_second() << ",\"bytes\":" << r.bytes
        << ",\"mb_per_s\":" << r.mb_per_second() << ",\"p50_us\":" << r.p50_us
        << ",\"p99_us\":" << r.p99_us << ",\"fsyncs\":" << r.fsyncs
        << ",\"daemon_cpu_s\":" << JsonNumberOrNull(r.daemon_cpu_seconds)
        << ",\"daemon_cpu_s_per_gib\":" << JsonNumberOrNull(r.daemon_cpu_per_gib())
        << ",\"client_cpu_s_per_gib\":" << JsonNumberOrNull(r.client_cpu_per_gib())
        << ",\"note\":" << JsonString(r.note) << "}";
  }
  out << "],\"not_measured\":[";
  for (size_t i = 0; i < not_measured.size(); ++i) {
    if (i > 0) out << ",";
    out << "{\"workload\":" << JsonString(not_measured[i].workload)
        << ",\"reason\":" << JsonString(not_measured[i].reason) << "}";
  }
  out << "]}";
  return out.str();
}

}  // namespace gfs::bench
