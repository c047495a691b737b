// gfs-bench: runs workloads against a running gfs cluster and prints what they reached.
//
//   gfs-bench --master=127.0.0.1:7000 --workloads=ping,stat,mkdir --threads=1,8
#include <gflags/gflags.h>
#include <glog/logging.h>

#include <iostream>
#include <sstream>

#include "client/bench/metadata_workloads.h"

DEFINE_string(master, "127.0.0.1:7000", "Master address(es), comma-separated.");
DEFINE_string(workloads, "ping,stat,ls,mkdir,rename",
              "Comma-separated workloads: ping, mkdir, stat, ls, rename.");
DEFINE_string(threads, "1,8",
              "Comma-separated client thread counts; each workload runs once "
              "per count.");
DEFINE_int32(duration_ms, 3000, "How long each workload runs.");
DEFINE_string(base_dir, "/bench", "Namespace directory the workloads work in.");
DEFINE_bool(json, false, "Print one JSON object instead of a table.");

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

}  // namespace

int main(int argc, char** argv) {
  gflags::SetUsageMessage("gfs-bench --master=HOST:PORT [--workloads=...] [--threads=1,8]");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  FLAGS_logtostderr = true;
  google::InitGoogleLogging(argv[0]);

  auto client = gfs::Client::Connect(FLAGS_master);
  if (!client.ok()) {
    std::cerr << "gfs-bench: " << client.status().ToString() << "\n";
    return 2;
  }
  std::vector<gfs::bench::BenchResult> results;
  for (const std::string& workload : SplitList(FLAGS_workloads)) {
    for (const std::string& threads : SplitList(FLAGS_threads)) {
      gfs::bench::MetadataBenchOptions options;
      options.threads = std::max(1, std::atoi(threads.c_str()));
      options.duration = std::chrono::milliseconds(FLAGS_duration_ms);
      options.base_dir = FLAGS_base_dir;
      auto result = gfs::bench::RunMetadataWorkload(client->get(), workload, options);
      if (!result.ok()) {
        std::cerr << "gfs-bench: " << workload << ": " << result.status().ToString() << "\n";
        return 1;
      }
      if (result->ops == 0) {
        std::cerr << "gfs-bench: " << workload << ": no operation succeeded (" << result->errors
                  << " failed)\n";
        return 1;
      }
      results.push_back(std::move(result).value());
    }
  }
  std::cout << (FLAGS_json ? gfs::bench::FormatJson(results) + "\n"
                           : gfs::bench::FormatTable(results));
  return 0;
}
