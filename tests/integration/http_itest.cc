// --http_listen on real daemons: /metrics in Prometheus text format with values that
// follow the cluster (servers registering, chunks written), the status page, and a
// daemon that cannot bind its HTTP address refusing to start.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "common/http_server.h"
#include "tests/http_client.h"
#include "tests/integration/harness.h"
#include "tests/test_util.h"

namespace gfs::testing {
namespace {

constexpr uint64_t kChunk = 1 << 20;

// The value of the unlabelled metric `name` in the Prometheus text `text`.
Result<double> MetricValue(const std::string& text, const std::string& name) {
  const std::string prefix = name + " ";
  size_t line = 0;
  while (line < text.size()) {
    const size_t end = text.find('\n', line);
    if (text.compare(line, prefix.size(), prefix) == 0) {
      const std::string value = text.substr(line + prefix.size(), end - line - prefix.size());
      char* parsed_end = nullptr;
      const double v = std::strtod(value.c_str(), &parsed_end);
      if (value.empty() || *parsed_end != '\0') {
        return Status::InvalidArgument(name + " has value '" + value + "'");
      }
      return v;
    }
    if (end == std::string::npos) break;
    line = end + 1;
  }
  return Status::NotFound("no metric " + name + " in:\n" + text);
}

// The value of metric `name` in `text`; a test failure and -1 if it is not there.
double Get(const std::string& text, const std::string& name) {
  Result<double> v = MetricValue(text, name);
  EXPECT_OK(v);
  return v.ok() ? *v : -1;
}

// Fetches /metrics from `address`; on any failure an empty string.
std::string Scrape(const std::string& address) {
  Result<HttpResponse> r = HttpGet(address, "/metrics");
  if (!r.ok() || r->status != 200) return "";
  return r->body;
}

// Metric `name` from a fresh scrape of `address`; -1 if it cannot be had.
double Metric(const std::string& address, const std::string& name) {
  Result<double> v = MetricValue(Scrape(address), name);
  return v.ok() ? *v : -1;
}

// Every metric in `names` appears with HELP, TYPE and a value.
void ExpectMetrics(const std::string& text, const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    EXPECT_NE(text.find("# HELP " + name + " "), std::string::npos) << name;
    EXPECT_NE(text.find("# TYPE " + name + " "), std::string::npos) << name;
    EXPECT_OK(MetricValue(text, name));
  }
}

class HttpTest : public GfsTest {
 protected:
  void SetUp() override {
    GfsTest::SetUp();
    cluster_ = std::make_unique<MiniCluster>(test_dir());
    cluster_->EnableHttp();
    // Short leases and frequent re-replication scans, so that the under-replication
    // count follows a write within a second or two; a dead server is noticed in 3 s.
    ASSERT_OK(
        cluster_->StartMaster({"--chunk_size_bytes=" + std::to_string(kChunk), "--lease_ms=1000",
                               "--replication_check_ms=200", "--heartbeat_timeout_ms=3000"}));
    ASSERT_OK(cluster_->StartChunkservers(1));
    ASSERT_OK(cluster_->WaitChunkserversLive(1));
    client_ = cluster_->NewClient();
    master_http_ = cluster_->master_http_address();
    cs_http_ = cluster_->chunkserver_http_address(0);
    ASSERT_FALSE(master_http_.empty());
    ASSERT_FALSE(cs_http_.empty());
  }

  std::unique_ptr<MiniCluster> cluster_;
  std::unique_ptr<Client> client_;
  std::string master_http_;
  std::string cs_http_;
};

TEST_F(HttpTest, MasterMetrics) {
  Result<HttpResponse> r = HttpGet(master_http_, "/metrics");
  ASSERT_OK(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("Content-Type").rfind("text/plain; version=0.0.4", 0), 0u);
  ExpectMetrics(r->body,
                {"gfs_master_uptime_seconds", "gfs_master_oplog_proposals_total",
                 "gfs_master_oplog_logged_entries_total", "gfs_master_oplog_synced_writes_total",
                 "gfs_master_oplog_applied_epoch", "gfs_master_oplog_applied_index",
                 "gfs_master_chunkservers_live", "gfs_master_chunkservers_dead",
                 "gfs_master_chunkservers_capacity_bytes", "gfs_master_chunkservers_used_bytes",
                 "gfs_master_chunks", "gfs_master_chunk_replicas", "gfs_master_leases",
                 "gfs_master_chunks_under_replicated", "gfs_master_chunks_without_live_replica"});
  EXPECT_NE(r->body.find("# TYPE gfs_master_oplog_proposals_total counter\n"), std::string::npos);
  EXPECT_NE(r->body.find("# TYPE gfs_master_chunkservers_live gauge\n"), std::string::npos);

  // WaitChunkserversLive registered the chunkserver and wrote a probe file.
  const std::string& m = r->body;
  EXPECT_EQ(Get(m, "gfs_master_chunkservers_live"), 1);
  EXPECT_EQ(Get(m, "gfs_master_chunkservers_dead"), 0);
  EXPECT_GT(Get(m, "gfs_master_chunkservers_capacity_bytes"), 0);
  EXPECT_GE(Get(m, "gfs_master_oplog_logged_entries_total"), 1);
  EXPECT_GE(Get(m, "gfs_master_oplog_proposals_total"),
            Get(m, "gfs_master_oplog_logged_entries_total"));
  EXPECT_GE(Get(m, "gfs_master_oplog_synced_writes_total"), 1);
  EXPECT_GE(Get(m, "gfs_master_oplog_applied_index"), 1);
  EXPECT_GE(Get(m, "gfs_master_uptime_seconds"), 0);

  // Two chunks, replication 3 on the only chunkserver: two more chunks, both
  // under-replicated once their lease is over.
  const double chunks = Get(m, "gfs_master_chunks");
  const double entries = Get(m, "gfs_master_oplog_logged_entries_total");
  auto writer = client_->Create("/f", 3);
  ASSERT_OK(writer);
  ASSERT_OK((*writer)->Write(std::string(kChunk + kChunk / 2, 'x')));
  ASSERT_OK((*writer)->Close());
  ASSERT_EVENTUALLY(Metric(master_http_, "gfs_master_chunks") == chunks + 2,
                    std::chrono::seconds(20));
  EXPECT_GT(Metric(master_http_, "gfs_master_oplog_logged_entries_total"), entries);
  ASSERT_EVENTUALLY(Metric(master_http_, "gfs_master_chunks_under_replicated") == 2,
                    std::chrono::seconds(20));
  EXPECT_EQ(Metric(master_http_, "gfs_master_chunks_without_live_replica"), 0);

  // The chunkserver dies: the master counts it dead once it is silent long enough.
  cluster_->KillChunkserver(0);
  ASSERT_EVENTUALLY(Metric(master_http_, "gfs_master_chunkservers_dead") == 1,
                    std::chrono::seconds(20));
  EXPECT_EQ(Metric(master_http_, "gfs_master_chunkservers_live"), 0);
}

TEST_F(HttpTest, ChunkserverMetrics) {
  const std::string text = Scrape(cs_http_);
  ExpectMetrics(
      text, {"gfs_chunkserver_uptime_seconds", "gfs_chunkserver_chunks",
             "gfs_chunkserver_chunks_corrupt_at_start", "gfs_chunkserver_used_bytes",
             "gfs_chunkserver_capacity_bytes", "gfs_chunkserver_push_buffer_used_bytes",
             "gfs_chunkserver_push_buffer_capacity_bytes", "gfs_chunkserver_push_buffer_entries",
             "gfs_chunkserver_reads_total", "gfs_chunkserver_read_bytes_total",
             "gfs_chunkserver_mutations_total", "gfs_chunkserver_mutation_bytes_total"});
  EXPECT_NE(text.find("# TYPE gfs_chunkserver_reads_total counter\n"), std::string::npos);
  EXPECT_GT(Get(text, "gfs_chunkserver_capacity_bytes"), 0);
  EXPECT_EQ(Get(text, "gfs_chunkserver_push_buffer_capacity_bytes"), 512 << 20);
  EXPECT_EQ(Get(text, "gfs_chunkserver_chunks_corrupt_at_start"), 0);

  const double chunks = Get(text, "gfs_chunkserver_chunks");
  const double used = Get(text, "gfs_chunkserver_used_bytes");
  const double mutations = Get(text, "gfs_chunkserver_mutations_total");
  const double mutation_bytes = Get(text, "gfs_chunkserver_mutation_bytes_total");
  const double reads = Get(text, "gfs_chunkserver_reads_total");
  const double read_bytes = Get(text, "gfs_chunkserver_read_bytes_total");
  constexpr uint64_t kSize = kChunk + kChunk / 2;
  auto writer = client_->Create("/f", 1);
  ASSERT_OK(writer);
  ASSERT_OK((*writer)->Write(std::string(kSize, 'x')));
  ASSERT_OK((*writer)->Close());
  // Close() returned: both replicas are on this server's disk.
  const std::string after = Scrape(cs_http_);
  EXPECT_EQ(Get(after, "gfs_chunkserver_chunks"), chunks + 2) << after;
  EXPECT_EQ(Get(after, "gfs_chunkserver_used_bytes"), used + kSize) << after;
  EXPECT_EQ(Get(after, "gfs_chunkserver_push_buffer_used_bytes"), 0) << after;
  // At least one mutation per chunk; every byte written at least once.
  EXPECT_GE(Get(after, "gfs_chunkserver_mutations_total"), mutations + 2) << after;
  EXPECT_GE(Get(after, "gfs_chunkserver_mutation_bytes_total"), mutation_bytes + kSize) << after;

  Result<std::string> back = client_->ReadAt("/f", 0, kSize);
  ASSERT_OK(back);
  ASSERT_EQ(back->size(), kSize);
  const std::string read = Scrape(cs_http_);
  EXPECT_GE(Get(read, "gfs_chunkserver_reads_total"), reads + 2) << read;
  EXPECT_GE(Get(read, "gfs_chunkserver_read_bytes_total"), read_bytes + kSize) << read;
}

TEST_F(HttpTest, StatusPagesAndErrors) {
  Result<HttpResponse> r = HttpGet(master_http_, "/");
  ASSERT_OK(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("Content-Type").rfind("text/plain", 0), 0u);
  EXPECT_NE(r->body.find("gfs-master, RPC on " + cluster_->master_address()), std::string::npos)
      << r->body;
  EXPECT_NE(r->body.find("gfs_master_chunkservers_live"), std::string::npos) << r->body;

  r = HttpGet(cs_http_, "/");
  ASSERT_OK(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("gfs-chunkserver " + cluster_->chunkserver_address(0)), std::string::npos)
      << r->body;
  EXPECT_NE(r->body.find("gfs_chunkserver_chunks"), std::string::npos) << r->body;

  r = HttpGet(master_http_, "/nope");
  ASSERT_OK(r);
  EXPECT_EQ(r->status, 404);
  r = HttpRequest(cs_http_, "DELETE /metrics HTTP/1.1\r\n\r\n");
  ASSERT_OK(r);
  EXPECT_EQ(r->status, 405);

  // The HTTP port survives a restart of the daemon.
  ASSERT_OK(cluster_->RestartMaster());
  ASSERT_EVENTUALLY(Metric(master_http_, "gfs_master_uptime_seconds") >= 0,
                    std::chrono::seconds(20));
}

class HttpStartupTest : public GfsTest {};

TEST_F(HttpStartupTest, DaemonsRefuseToStartWhenTheHttpAddressIsTaken) {
  HttpServer blocker(HttpServerOptions{"127.0.0.1:0"});
  ASSERT_OK(blocker.Start());
  const std::string taken = "127.0.0.1:" + std::to_string(blocker.port());
  const std::string bin = GFS_BIN_DIR;

  CliResult master = RunCommand(bin + "/gfs-master",
                                {"--listen=127.0.0.1:0", "--data_dir=" + test_dir() + "/master",
                                 "--logtostderr", "--http_listen=" + taken});
  EXPECT_EQ(master.exit_code, 1) << master.err;
  EXPECT_NE(master.err.find("--http_listen: cannot serve HTTP on " + taken), std::string::npos)
      << master.err;
  EXPECT_NE(master.err.find("Address already in use"), std::string::npos) << master.err;

  CliResult cs =
      RunCommand(bin + "/gfs-chunkserver",
                 {"--listen=127.0.0.1:0", "--advertise=127.0.0.1:1", "--master=127.0.0.1:1",
                  "--data_dir=" + test_dir() + "/cs", "--logtostderr", "--http_listen=" + taken});
  EXPECT_EQ(cs.exit_code, 1) << cs.err;
  EXPECT_NE(cs.err.find("--http_listen: cannot serve HTTP on " + taken), std::string::npos)
      << cs.err;
}

}  // namespace
}  // namespace gfs::testing
