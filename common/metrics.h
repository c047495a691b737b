// A daemon's metrics at one moment, and the two ways gfs shows them over HTTP: the
// Prometheus text exposition format (/metrics) and a plain-text status page (/).
//
//   MetricSet m;
//   m.Gauge("gfs_master_chunkservers_live", "Chunkservers sending heartbeats.", 3);
//   m.Counter("gfs_master_oplog_proposals_total", "Op log proposals.", 1234);
//   http_reply.body = m.ToPrometheusText();
//
// Names follow Prometheus conventions: `gfs_<daemon>_<what>[_<unit>]`, counters end in
// `_total`. Values are printed in the shortest form that reads back exactly.
//
// Not thread-safe: build one per request.
#pragma once

#include <string>
#include <vector>

namespace gfs {

class MetricSet {
 public:
  // A value that can go up and down (chunks held, servers live, uptime).
  // REQUIRES: `name` matches [a-zA-Z_:][a-zA-Z0-9_:]*; `help` is one line.
  void Gauge(std::string name, std::string help, double value);
  // A count that only grows while the process lives (requests served, bytes written).
  // Same REQUIRES as Gauge.
  void Counter(std::string name, std::string help, double value);

  // "# HELP name help\n# TYPE name gauge|counter\nname value\n" per metric, in the order
  // added. Content type: kPrometheusContentType.
  std::string ToPrometheusText() const;

  // `title`, then one line per metric: name, value and help, aligned. Content type
  // text/plain.
  std::string ToStatusPage(const std::string& title) const;

  static constexpr const char* kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";
  static constexpr const char* kStatusPageContentType = "text/plain; charset=utf-8";

 private:
  struct Metric {
    std::string name;
    std::string help;
    const char* type;
    double value;
  };
  void Add(std::string name, std::string help, const char* type, double value);

  std::vector<Metric> metrics_;
};

// `value` in the shortest decimal form that parses back to it ("3", "0.25", "1e+20").
std::string FormatMetricValue(double value);

}  // namespace gfs
