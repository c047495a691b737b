// A running master: the op log, the namespace on top of it, and the gRPC server.
// main() builds one from flags; tests build one from options.
//
// Start() and Shutdown() are called from one thread; the rest is thread-safe.
#pragma once

#include <memory>
#include <string>

#include "gfs/status.h"
#include "master/namespace.h"
#include "master/op_log.h"

namespace grpc {
class Server;
}

namespace gfs {
class HttpServer;
class PeriodicTask;
}  // namespace gfs

namespace gfs::master {

class ChunkManager;
class ChunkServerClient;
class ChunkServerRegistry;
class GarbageCollector;
class Snapshotter;
class HeartbeatServiceImpl;
class MasterServiceImpl;
class MasterStateMachine;

struct MasterServerOptions {
  // HOST:PORT to serve RPCs on; port 0 picks a free one (see port()).
  std::string listen = "0.0.0.0:7000";
  // HOST:PORT to serve /metrics and the status page (/) over HTTP on; empty: none. Port
  // 0 picks a free one (see http_port()).
  std::string http_listen;
  // Where the metadata (RocksDB, op log) lives. Required.
  std::string data_dir;
  NamespaceOptions ns;
  uint64_t oplog_tail_entries = 100000;
  // Primary lease length.
  uint64_t lease_ms = 60000;
  // A chunkserver silent this long is dead.
  int64_t heartbeat_timeout_ms = 15000;
  // Deadline of each call the master makes on a chunkserver.
  int64_t chunkserver_rpc_timeout_ms = 10000;
  // Deleted entries stay recoverable this long; the trash is checked every interval.
  int64_t trash_retention_s = 259200;
  int64_t gc_interval_ms = 10000;
  // Each chunkserver sends a full chunk report this often (garbage is found that way).
  int64_t full_report_interval_ms = 300000;
  // How often under-replicated chunks are looked for, and how many copies a round makes.
  int64_t replication_check_ms = 5000;
  size_t max_copies_per_round = 8;
};

class MasterServer {
 public:
  explicit MasterServer(MasterServerOptions options);
  ~MasterServer();

  // Opens the metadata and starts serving. Returns the error when the metadata cannot
  // be opened or an address (RPC or HTTP) cannot be bound.
  Status Start();
  // Stops serving (in-flight calls get a short grace period) and closes the metadata.
  // Idempotent.
  void Shutdown();

  // The RPC port actually bound. REQUIRES: Start() succeeded.
  int port() const { return port_; }
  // The HTTP port actually bound; 0 without http_listen. REQUIRES: Start() succeeded.
  int http_port() const;
  OpLog* op_log() const { return log_.get(); }

 private:
  // Serves /metrics and / on options_.http_listen.
  Status StartHttp();

  const MasterServerOptions options_;
  std::unique_ptr<MasterStateMachine> state_machine_;
  std::unique_ptr<OpLog> log_;
  std::unique_ptr<Namespace> namespace_;
  std::unique_ptr<ChunkServerRegistry> registry_;
  std::unique_ptr<ChunkServerClient> chunkserver_client_;
  std::unique_ptr<ChunkManager> chunk_manager_;
  std::unique_ptr<Snapshotter> snapshotter_;
  std::unique_ptr<MasterServiceImpl> service_;
  std::unique_ptr<HeartbeatServiceImpl> heartbeat_service_;
  // Declares silent chunkservers dead.
  std::unique_ptr<PeriodicTask> liveness_;
  std::unique_ptr<GarbageCollector> gc_;
  // Copies chunks that lost replicas.
  std::unique_ptr<PeriodicTask> replicator_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  // /metrics and the status page; null without http_listen.
  std::unique_ptr<HttpServer> http_;
  int64_t start_us_ = 0;  // monotonic
};

}  // namespace gfs::master
