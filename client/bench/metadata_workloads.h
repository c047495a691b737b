// gfs-bench's metadata workloads: closed-loop client threads against the master.
#pragma once

#include <chrono>
#include <string>

#include "client/bench/bench_result.h"
#include "gfs/client.h"

namespace gfs::bench {

struct MetadataBenchOptions {
  int threads = 1;
  std::chrono::milliseconds duration{3000};
  // A directory of the namespace the workload may fill; created if missing.
  std::string base_dir = "/bench";
};

// Runs `workload` ("ping", "mkdir", "stat", "ls", "rename") with one shared Client and
// `options.threads` threads, each issuing calls back to back for `options.duration`.
// Returns InvalidArgument for an unknown workload, or the error of the set-up steps.
Result<BenchResult> RunMetadataWorkload(Client* client, const std::string& workload,
                                        const MetadataBenchOptions& options);

}  // namespace gfs::bench
