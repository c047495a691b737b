#include "common/metrics.h"

#include <glog/logging.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <utility>

namespace gfs {

namespace {

bool ValidName(const std::string& name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

// HELP text escapes backslash and newline (the exposition format's rule).
std::string EscapeHelp(const std::string& help) {
  std::string out;
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string FormatMetricValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  CHECK(ec == std::errc()) << "formatting a double cannot overflow 64 chars";
  return std::string(buf, end);
}

void MetricSet::Gauge(std::string name, std::string help, double value) {
  Add(std::move(name), std::move(help), "gauge", value);
}

void MetricSet::Counter(std::string name, std::string help, double value) {
  Add(std::move(name), std::move(help), "counter", value);
}

void MetricSet::Add(std::string name, std::string help, const char* type, double value) {
  CHECK(ValidName(name)) << "bad metric name '" << name << "'";
  metrics_.push_back(Metric{std::move(name), std::move(help), type, value});
}

std::string MetricSet::ToPrometheusText() const {
  std::string out;
  for (const Metric& m : metrics_) {
    out += "# HELP " + m.name + " " + EscapeHelp(m.help) + "\n";
    out += "# TYPE " + m.name + " " + m.type + "\n";
    out += m.name + " " + FormatMetricValue(m.value) + "\n";
  }
  return out;
}

std::string MetricSet::ToStatusPage(const std::string& title) const {
  size_t name_width = 0, value_width = 0;
  std::vector<std::string> values;
  for (const Metric& m : metrics_) {
    values.push_back(FormatMetricValue(m.value));
    name_width = std::max(name_width, m.name.size());
    value_width = std::max(value_width, values.back().size());
  }
  std::string out = title + "\n\n";
  for (size_t i = 0; i < metrics_.size(); ++i) {
    const Metric& m = metrics_[i];
    out += m.name + std::string(name_width - m.name.size() + 2, ' ');
    out += std::string(value_width - values[i].size(), ' ') + values[i];
    out += "  " + m.help + "\n";
  }
  out += "\nThe same values in Prometheus text format: /metrics\n";
  return out;
}

}  // namespace gfs
