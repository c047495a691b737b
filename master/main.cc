// gfs-master: the metadata server.
#include <gflags/gflags.h>
#include <glog/logging.h>

#include "common/daemon.h"
#include "master/master_server.h"

DEFINE_string(listen, "0.0.0.0:7000", "HOST:PORT to serve RPCs on.");
DEFINE_string(http_listen, "",
              "HOST:PORT to serve Prometheus metrics (/metrics) and a status page (/) on over "
              "HTTP; empty: no HTTP.");
DEFINE_string(data_dir, "", "Directory of the master's metadata (RocksDB and op log). Required.");
DEFINE_uint64(chunk_size_bytes, 64ull << 20, "Chunk size of new files, in bytes.");
DEFINE_uint32(default_replication, 3, "Replicas per chunk for files that do not ask for a number.");
DEFINE_uint64(lease_ms, 60000, "Length of a primary's lease on a chunk, in milliseconds.");
DEFINE_int64(heartbeat_timeout_ms, 15000,
             "A chunkserver silent this long is declared dead, in milliseconds.");
DEFINE_int64(trash_retention_s, 259200,
             "Deleted files and directories stay recoverable (gfs undelete) this long, in "
             "seconds; then they are purged and their chunks reclaimed.");
DEFINE_int64(gc_interval_ms, 10000, "How often the trash is checked for expired entries.");
DEFINE_int64(full_report_interval_ms, 300000,
             "How often each chunkserver is asked for a full chunk report, which is how "
             "orphaned and stale replicas are found.");
DEFINE_int64(replication_check_ms, 5000,
             "How often chunks with fewer live replicas than their file asks for are looked "
             "for and copied to other chunkservers (at most 8 per round, fewest replicas "
             "first).");
DEFINE_uint64(oplog_tail_entries, 100000,
              "How many of the newest op log entries are kept for followers to catch up from.");

int main(int argc, char** argv) {
  gfs::InitDaemon(&argc, &argv, "gfs-master --data_dir=DIR [--listen=HOST:PORT] [flags]");
  if (FLAGS_data_dir.empty()) {
    LOG(ERROR) << "--data_dir is required";
    return 2;
  }
  if (FLAGS_chunk_size_bytes == 0 || FLAGS_default_replication == 0) {
    LOG(ERROR) << "--chunk_size_bytes and --default_replication must be positive";
    return 2;
  }
  gfs::master::MasterServerOptions options;
  options.listen = FLAGS_listen;
  options.http_listen = FLAGS_http_listen;
  options.data_dir = FLAGS_data_dir;
  options.ns.chunk_size_bytes = FLAGS_chunk_size_bytes;
  options.ns.default_replication = FLAGS_default_replication;
  options.oplog_tail_entries = FLAGS_oplog_tail_entries;
  options.lease_ms = FLAGS_lease_ms;
  options.heartbeat_timeout_ms = FLAGS_heartbeat_timeout_ms;
  options.trash_retention_s = FLAGS_trash_retention_s;
  options.gc_interval_ms = FLAGS_gc_interval_ms;
  options.full_report_interval_ms = FLAGS_full_report_interval_ms;
  options.replication_check_ms = FLAGS_replication_check_ms;

  gfs::master::MasterServer server(options);
  if (gfs::Status s = server.Start(); !s.ok()) {
    LOG(ERROR) << "master failed to start: " << s.ToString();
    return 1;
  }
  int sig = gfs::WaitForTerminationSignal();
  LOG(INFO) << "signal " << sig << " received, shutting down";
  server.Shutdown();
  return 0;
}
