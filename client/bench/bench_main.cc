// gfs-bench: runs workloads against a running gfs cluster and prints what they reached.
//
//   gfs-bench --master=127.0.0.1:7000 --workloads=ping,stat,mkdir --threads=1,8
//   gfs-bench --workloads=write,read --threads=1 --file_size_mb=1024 --replication=3
//       --daemon_pids=$(cat var/*.pid | paste -sd,)
//   gfs-bench --workloads=stream_ceiling --stream_mb=1024   # no cluster needed
#include <gflags/gflags.h>
#include <glog/logging.h>
#include <grpc/grpc.h>

#include <algorithm>
#include <iostream>
#include <sstream>

#include "client/bench/data_workloads.h"
#include "client/bench/metadata_workloads.h"
#include "client/bench/stream_ceiling.h"
#include "common/daemon.h"

DEFINE_string(master, "127.0.0.1:7000", "Master address(es), comma-separated.");
DEFINE_string(workloads, "ping,stat,ls,mkdir,rename",
              "Comma-separated workloads. Metadata: ping, mkdir, stat, ls, rename. Data: "
              "write, read, randread_4k, randread_64k, randread_1m, smallfile (reports "
              "smallfile_create and smallfile_read). stream_ceiling: a bare gRPC stream "
              "between this process and a server process it starts (no cluster used). "
              "append: N threads appending framed records to one file, all read back.");
DEFINE_string(threads, "1,8",
              "Comma-separated client thread counts; each workload runs once "
              "per count.");
DEFINE_int32(duration_ms, 3000,
             "How long each metadata workload, randread_* and smallfile's create phase "
             "run.");
DEFINE_string(base_dir, "/bench", "Namespace directory the workloads work in.");
DEFINE_bool(json, false, "Print one JSON object instead of a table.");
DEFINE_uint64(file_size_mb, 256, "Size of each file of write, read and randread_*, in MiB.");
DEFINE_uint32(replication, 3, "Replicas per chunk of the files the data workloads create.");
DEFINE_uint64(io_kb, 1024, "Bytes per Write/Read call of write and read, in KiB.");
DEFINE_uint64(record_kb, 64, "Payload of each record of the append workload, in KiB.");
DEFINE_uint64(inline_write_kb, gfs::ClientOptions().inline_write_bytes >> 10,
              "Writes and appends of at most this many KiB carry their data to the primary "
              "instead of pushing it to every replica first; 0 pushes everything.");
DEFINE_int32(parallel_chunks, gfs::ClientOptions().parallel_chunks,
             "Pieces a reader keeps in flight, and units a writer sends at once.");
DEFINE_string(daemon_pids, "",
              "Comma-separated pids of the cluster's daemons: their CPU time (user+sys "
              "from /proc/PID/stat) during each data workload is reported per GiB.");
DEFINE_bool(drop_caches, false,
            "Before read and randread_*: sync and drop the page cache (needs root).");
DEFINE_uint64(stream_mb, 1024, "MiB per stream and direction for stream_ceiling.");
DEFINE_string(stream_server, "",
              "Internal: serve stream_ceiling's service on this HOST:PORT (port 0: any) "
              "instead of running workloads.");

namespace {

std::vector<std::string> SplitList(const std::string& list) {
  std::vector<std::string> items;
  std::stringstream in(list);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) items.push_back(item);
  }
  return items;
}

bool IsMetadataWorkload(const std::string& w) {
  return w == "ping" || w == "mkdir" || w == "stat" || w == "ls" || w == "rename";
}

}  // namespace

int main(int argc, char** argv) {
  gfs::TurnOffMutexDeadlockDetection();
  gfs::KeepFreedBuffersForReuse();
  gflags::SetUsageMessage("gfs-bench --master=HOST:PORT [--workloads=...] [--threads=1,8]");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  FLAGS_logtostderr = true;
  google::InitGoogleLogging(argv[0]);
  // Never shut gRPC down: avoids grpc_shutdown() stalls at exit (BUILD-NOTES.md).
  grpc_init();

  if (!FLAGS_stream_server.empty()) return gfs::bench::RunStreamServer(FLAGS_stream_server);

  const std::vector<std::string> workloads = SplitList(FLAGS_workloads);
  for (const std::string& w : workloads) {
    if (!IsMetadataWorkload(w) && !gfs::bench::IsDataWorkload(w) && w != "stream_ceiling") {
      std::cerr << "gfs-bench: unknown workload '" << w << "' (see --helpon=bench_main)\n";
      return 2;
    }
  }
  std::vector<pid_t> daemon_pids;
  for (const std::string& pid : SplitList(FLAGS_daemon_pids)) {
    const long value = std::atol(pid.c_str());
    if (value <= 0) {
      std::cerr << "gfs-bench: --daemon_pids: '" << pid << "' is not a pid\n";
      return 2;
    }
    daemon_pids.push_back(static_cast<pid_t>(value));
  }

  gfs::ClientOptions client_options;
  client_options.inline_write_bytes = FLAGS_inline_write_kb << 10;
  client_options.parallel_chunks = FLAGS_parallel_chunks;
  auto client = gfs::Client::Connect(FLAGS_master, client_options);
  if (!client.ok()) {
    std::cerr << "gfs-bench: " << client.status().ToString() << "\n";
    return 2;
  }
  std::vector<gfs::bench::BenchResult> results;
  std::vector<gfs::bench::NotMeasured> not_measured;
  for (const std::string& workload : workloads) {
    for (const std::string& threads : SplitList(FLAGS_threads)) {
      const int thread_count = std::max(1, std::atoi(threads.c_str()));
      gfs::Result<std::vector<gfs::bench::BenchResult>> run = gfs::Status::Internal("not run");
      if (IsMetadataWorkload(workload)) {
        gfs::bench::MetadataBenchOptions options;
        options.threads = thread_count;
        options.duration = std::chrono::milliseconds(FLAGS_duration_ms);
        options.base_dir = FLAGS_base_dir;
        auto result = gfs::bench::RunMetadataWorkload(client->get(), workload, options);
        if (result.ok()) {
          run = std::vector<gfs::bench::BenchResult>{std::move(result).value()};
        } else {
          run = result.status();
        }
      } else if (workload == "stream_ceiling") {
        gfs::bench::StreamCeilingOptions options;
        options.threads = thread_count;
        options.total_bytes = FLAGS_stream_mb << 20;
        run = gfs::bench::RunStreamCeiling(options);
      } else {
        gfs::bench::DataBenchOptions options;
        options.threads = thread_count;
        options.file_size_bytes = FLAGS_file_size_mb << 20;
        options.replication = FLAGS_replication;
        options.duration = std::chrono::milliseconds(FLAGS_duration_ms);
        options.base_dir = FLAGS_base_dir;
        options.daemon_pids = daemon_pids;
        options.drop_caches = FLAGS_drop_caches;
        options.io_bytes = FLAGS_io_kb << 10;
        options.record_bytes = FLAGS_record_kb << 10;
        run = gfs::bench::RunDataWorkload(client->get(), workload, options);
      }
      if (!run.ok()) {
        std::cerr << "gfs-bench: " << workload << ": " << run.status().ToString() << "\n";
        return 1;
      }
      for (gfs::bench::BenchResult& result : *run) {
        if (result.ops == 0) {
          std::cerr << "gfs-bench: " << result.workload << ": no operation succeeded ("
                    << result.errors << " failed)\n";
          return 1;
        }
        results.push_back(std::move(result));
      }
    }
  }
  std::cout << (FLAGS_json ? gfs::bench::FormatJson(results, not_measured) + "\n"
                           : gfs::bench::FormatTable(results, not_measured));
  return 0;
}
