// Serves ChunkServerService.ReadChunk through gRPC's completion-queue (async) API: a
// fixed set of threads of its own takes read calls off a completion queue, reads and
// verifies the bytes (ChunkServerServiceImpl::ServeRead) and replies with the read
// buffer itself as the message (common/read_chunk_wire.h: no copy).
//
// Why not the callback API: a ReadChunk callback method made the chunkserver's whole
// synchronous server stall for about 100 ms every 1.1 s (small-file p99 38 -> 110 ms,
// bisected to that change, independent of the heartbeat period and of the sync
// server's poll timeout). The completion-queue API is the one the sync server itself
// is built on.
//
// Each thread keeps one call requested, so up to `threads` reads run at once; further
// calls wait in gRPC until a thread is free. Thread-safe.
#pragma once

#include <grpcpp/server_context.h>

#include <memory>
#include <thread>
#include <vector>

#include "chunkserver/chunkserver_service.h"
#include "common/mutex.h"

namespace gfs::chunkserver {

// Reads served at once per chunkserver (more wait in gRPC for a thread).
inline constexpr int kReadThreads = 8;

class ReadServer {
 public:
  // `service` and `cq` (from ServerBuilder::AddCompletionQueue) must outlive this.
  ReadServer(ChunkServerServiceImpl* service, grpc::ServerCompletionQueue* cq, int threads);
  // Shutdown().
  ~ReadServer();
  ReadServer(const ReadServer&) = delete;
  ReadServer& operator=(const ReadServer&) = delete;

  // Starts the threads. Call after the server started.
  void Start();

  // Shuts the queue down and joins the threads. REQUIRES: the grpc::Server was shut
  // down first (it then cancels the calls still requested). Idempotent.
  void Shutdown();

 private:
  friend class ReadCall;

  void Loop();
  // Around serving one call: whether to request another (not once stopping), and the
  // count of replies still to be queued, which Shutdown waits for: nothing may be
  // queued on a queue already shut down.
  bool BeginServe() EXCLUDES(mu_);
  void EndServe() EXCLUDES(mu_);

  ChunkServerServiceImpl* const service_;
  grpc::ServerCompletionQueue* const cq_;
  const int threads_;
  std::vector<std::thread> workers_;
  bool shut_down_ = false;

  Mutex mu_;
  CondVar idle_{&mu_};
  bool stopping_ GUARDED_BY(mu_) = false;
  int serving_ GUARDED_BY(mu_) = 0;
};

}  // namespace gfs::chunkserver
