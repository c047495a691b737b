#include "client/bench/metadata_workloads.h"

#include <atomic>
#include <functional>
#include <thread>
#include <vector>

namespace gfs::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

// One operation of thread `thread`, its `i`-th; returns its status.
using Operation = std::function<Status(int thread, uint64_t i)>;

BenchResult RunClosedLoop(const std::string& name, const MetadataBenchOptions& options,
                          const Operation& op) {
  std::vector<LatencyRecorder> latencies(options.threads);
  std::vector<uint64_t> errors(options.threads, 0);
  std::atomic<bool> stop{false};
  const auto start = SteadyClock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < options.threads; ++t) {
    threads.emplace_back([&, t] {
      for (uint64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        const auto before = SteadyClock::now();
        Status s = op(t, i);
        const auto after = SteadyClock::now();
        if (!s.ok()) {
          ++errors[t];
          continue;
        }
        latencies[t].Add(
            std::chrono::duration_cast<std::chrono::microseconds>(after - before).count());
      }
    });
  }
  std::this_thread::sleep_for(options.duration);
  stop = true;
  for (auto& thread : threads) thread.join();
  const double seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();

  LatencyRecorder all;
  BenchResult result;
  for (int t = 0; t < options.threads; ++t) {
    all.Merge(latencies[t]);
    result.errors += errors[t];
  }
  result.workload = name;
  result.threads = options.threads;
  result.ops = all.size();
  result.seconds = seconds;
  result.p50_us = all.Quantile(0.50);
  result.p99_us = all.Quantile(0.99);
  return result;
}

std::string ThreadDir(const std::string& run_dir, int thread) {
  return run_dir + "/t" + std::to_string(thread);
}

}  // namespace

Result<BenchResult> RunMetadataWorkload(Client* client, const std::string& workload,
                                        const MetadataBenchOptions& options) {
  // Each run works in a fresh directory so that runs do not collide.
  const std::string run_dir =
      options.base_dir + "/" + workload + "-" +
      std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
  Operation op;
  if (workload == "ping") {
    op = [&](int, uint64_t) { return client->Ping().status(); };
  } else if (workload == "mkdir") {
    for (int t = 0; t < options.threads; ++t) {
      GFS_RETURN_IF_ERROR(client->Mkdir(ThreadDir(run_dir, t), /*parents=*/true));
    }
    op = [&](int t, uint64_t i) {
      return client->Mkdir(ThreadDir(run_dir, t) + "/d" + std::to_string(i), false);
    };
  } else if (workload == "stat" || workload == "ls") {
    // 100 files to stat, in one directory to list.
    constexpr int kFiles = 100;
    GFS_RETURN_IF_ERROR(client->Mkdir(run_dir, /*parents=*/true));
    for (int f = 0; f < kFiles; ++f) {
      GFS_RETURN_IF_ERROR(client->CreateFile(run_dir + "/f" + std::to_string(f), 0).status());
    }
    if (workload == "stat") {
      op = [&](int t, uint64_t i) {
        return client->Stat(run_dir + "/f" + std::to_string((i * 7 + t) % kFiles)).status();
      };
    } else {
      op = [&](int, uint64_t) { return client->ListPage(run_dir, "", kFiles).status(); };
    }
  } else if (workload == "rename") {
    for (int t = 0; t < options.threads; ++t) {
      GFS_RETURN_IF_ERROR(client->Mkdir(ThreadDir(run_dir, t), /*parents=*/true));
      GFS_RETURN_IF_ERROR(client->CreateFile(ThreadDir(run_dir, t) + "/a", 0).status());
    }
    op = [&](int t, uint64_t i) {
      const std::string a = ThreadDir(run_dir, t) + "/a";
      const std::string b = ThreadDir(run_dir, t) + "/b";
      return i % 2 == 0 ? client->Rename(a, b) : client->Rename(b, a);
    };
  } else {
    return Status::InvalidArgument("unknown workload '" + workload +
                                   "' (ping, mkdir, stat, ls, rename)");
  }

  Result<MasterStatus> before = client->GetMasterStatus();
  BenchResult result = RunClosedLoop(workload, options, op);
  Result<MasterStatus> after = client->GetMasterStatus();
  if (before.ok() && after.ok()) {
    result.fsyncs = static_cast<int64_t>(after->synced_writes - before->synced_writes);
  }
  return result;
}

}  // namespace gfs::bench
