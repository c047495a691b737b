// A running chunkserver: its chunk store, push buffer, leases, heartbeats to the master
// and the gRPC server. main() builds one from flags; tests build one from options.
//
// Start() and Shutdown() are called from one thread.
#pragma once

#include <grpcpp/generic/async_generic_service.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "gfs/status.h"

namespace gfs {
class HttpServer;
class PeriodicTask;
}  // namespace gfs

namespace grpc {
class Server;
class ServerCompletionQueue;
}  // namespace grpc

namespace gfs::chunkserver {

class ChunkStore;
class ChunkServerServiceImpl;
class PushDataService;
class Heartbeater;
class LeaseTable;
class PushBuffer;
class ReadServer;

struct ChunkServerOptions {
  std::string listen = "0.0.0.0:7001";
  // HOST:PORT to serve /metrics and the status page (/) over HTTP on; empty: none. Port
  // 0 picks a free one (see http_port()).
  std::string http_listen;
  // The address the master and clients use; never 0.0.0.0. Required.
  std::string advertise;
  std::string masters = "127.0.0.1:7000";
  std::string data_dir;
  std::string rack = "default";
  std::chrono::milliseconds heartbeat_interval{1000};
  uint64_t push_buffer_bytes = 512ull << 20;
  std::chrono::milliseconds push_buffer_ttl{60000};
  uint64_t max_chunk_bytes = 1ull << 30;
};

class ChunkServer {
 public:
  explicit ChunkServer(ChunkServerOptions options);
  ~ChunkServer();

  // Opens the chunk store, starts serving and heartbeating. Returns the error when the
  // store cannot be opened or an address (RPC or HTTP) cannot be bound.
  Status Start();
  // Stops heartbeats and serving; idempotent.
  void Shutdown();

  int port() const { return port_; }
  // The HTTP port actually bound; 0 without http_listen. REQUIRES: Start() succeeded.
  int http_port() const;

 private:
  // Serves /metrics and / on options_.http_listen.
  Status StartHttp();

  const ChunkServerOptions options_;
  std::unique_ptr<ChunkStore> store_;
  std::unique_ptr<PushBuffer> buffer_;
  std::unique_ptr<LeaseTable> leases_;
  std::unique_ptr<Heartbeater> heartbeater_;
  std::unique_ptr<ChunkServerServiceImpl> service_;
  std::unique_ptr<PushDataService> push_service_;
  // gRPC allows a generic service on one server only: made anew by each Start().
  std::unique_ptr<grpc::CallbackGenericService> unknown_methods_;
  std::unique_ptr<grpc::ServerCompletionQueue> read_queue_;
  std::unique_ptr<grpc::Server> server_;
  // Serves ReadChunk off read_queue_ (chunkserver/read_server.h).
  std::unique_ptr<ReadServer> read_server_;
  int port_ = 0;
  // Expires pushed data nobody used; runs every few seconds until Shutdown.
  std::unique_ptr<PeriodicTask> sweeper_;
  // /metrics and the status page; null without http_listen.
  std::unique_ptr<HttpServer> http_;
  int64_t start_us_ = 0;      // monotonic
  uint64_t incarnation_ = 0;  // HeartbeatRequest.incarnation
};

}  // namespace gfs::chunkserver
