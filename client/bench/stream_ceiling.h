// gfs-bench's gRPC streaming ceiling: how many bytes per second one gRPC stream carries
// between two processes on this machine, with nothing else in the way.
//
// `RunStreamCeiling` starts a second gfs-bench process in server mode
// (`--stream_server=127.0.0.1:0`, `RunStreamServer`), pushes `total_bytes` through it in
// 1 MiB messages in both directions (server to client: stream_source, the direction of
// a read; client to server: stream_sink, the direction of a write's PushData), then
// stops the server. With threads > 1 each thread has its own stream on its own
// connection.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "client/bench/bench_result.h"
#include "gfs/status.h"

namespace gfs::bench {

// Serves the BenchStream service on `address` (port 0: any free port) until killed.
// Prints the bound port on stdout, one line, once it serves. Returns non-zero on error.
int RunStreamServer(const std::string& address);

struct StreamCeilingOptions {
  int threads = 1;
  uint64_t total_bytes = 1ull << 30;  // per thread and direction
  uint32_t message_bytes = 1 << 20;
};

Result<std::vector<BenchResult>> RunStreamCeiling(const StreamCeilingOptions& options);

}  // namespace gfs::bench
