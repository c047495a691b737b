#include "common/metrics.h"

#include <gtest/gtest.h>

namespace gfs {
namespace {

TEST(MetricsTest, PrometheusText) {
  MetricSet m;
  m.Gauge("gfs_test_things", "Things held.", 3);
  m.Counter("gfs_test_bytes_total", "Bytes moved, with a \\ and a\nnewline.", 1ull << 40);
  EXPECT_EQ(m.ToPrometheusText(),
            "# HELP gfs_test_things Things held.\n"
            "# TYPE gfs_test_things gauge\n"
            "gfs_test_things 3\n"
            "# HELP gfs_test_bytes_total Bytes moved, with a \\\\ and a\\nnewline.\n"
            "# TYPE gfs_test_bytes_total counter\n"
            "gfs_test_bytes_total 1099511627776\n");
}

TEST(MetricsTest, StatusPageListsEveryMetric) {
  MetricSet m;
  m.Gauge("gfs_test_a", "First.", 1);
  m.Gauge("gfs_test_longer_name", "Second.", 0.5);
  const std::string page = m.ToStatusPage("gfs-test on here");
  EXPECT_EQ(page.rfind("gfs-test on here\n", 0), 0u) << page;
  EXPECT_NE(page.find("gfs_test_a              1  First.\n"), std::string::npos) << page;
  EXPECT_NE(page.find("gfs_test_longer_name  0.5  Second.\n"), std::string::npos) << page;
}

TEST(MetricsTest, ValuesReadBackExactly) {
  EXPECT_EQ(FormatMetricValue(0), "0");
  EXPECT_EQ(FormatMetricValue(42), "42");
  EXPECT_EQ(FormatMetricValue(12.345), "12.345");
  EXPECT_EQ(FormatMetricValue(-1), "-1");
  EXPECT_EQ(FormatMetricValue(1e20), "1e+20");
}

}  // namespace
}  // namespace gfs
