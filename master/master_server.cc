#include "master/master_server.h"

#include <glog/logging.h>
#include <grpcpp/grpcpp.h>

#include <chrono>

#include "common/grpc_server.h"
#include "common/http_server.h"
#include "common/metrics.h"
#include "common/periodic_task.h"
#include "master/chunk_manager.h"
#include "master/chunkserver_client.h"
#include "master/chunkserver_registry.h"
#include "master/garbage_collector.h"
#include "master/master_metrics.h"
#include "master/master_service.h"
#include "master/snapshotter.h"
#include "master/state_machine.h"

namespace gfs::master {

MasterServer::MasterServer(MasterServerOptions options) : options_(std::move(options)) {}

MasterServer::~MasterServer() { Shutdown(); }

Status MasterServer::Start() {
  if (options_.data_dir.empty()) return Status::InvalidArgument("--data_dir is required");
  state_machine_ = std::make_unique<MasterStateMachine>();
  OpLogOptions log_options;
  log_options.data_dir = options_.data_dir;
  log_options.tail_entries = options_.oplog_tail_entries;
  GFS_ASSIGN_OR_RETURN(log_, OpLog::Open(log_options, state_machine_.get()));
  namespace_ = std::make_unique<Namespace>(options_.ns, log_.get(), Clock::Real());
  registry_ = std::make_unique<ChunkServerRegistry>(Clock::Real(), options_.heartbeat_timeout_ms);
  chunkserver_client_ =
      NewGrpcChunkServerClient(std::chrono::milliseconds(options_.chunkserver_rpc_timeout_ms));
  ChunkManagerOptions chunk_options;
  chunk_options.lease_ms = options_.lease_ms;
  chunk_options.full_report_interval_ms = options_.full_report_interval_ms;
  chunk_manager_ = std::make_unique<ChunkManager>(chunk_options, log_.get(), registry_.get(),
                                                  chunkserver_client_.get(), Clock::Real());
  snapshotter_ = std::make_unique<Snapshotter>(namespace_.get(), chunk_manager_.get(), log_.get());
  service_ = std::make_unique<MasterServiceImpl>(namespace_.get(), chunk_manager_.get(),
                                                 registry_.get(), snapshotter_.get(), log_.get());
  heartbeat_service_ =
      std::make_unique<HeartbeatServiceImpl>(registry_.get(), chunk_manager_.get());
  start_us_ = Clock::Real()->MonotonicMicros();
  // Before the RPC server, so that a master that cannot serve HTTP never serves at all.
  if (!options_.http_listen.empty()) GFS_RETURN_IF_ERROR(StartHttp());

  grpc::ServerBuilder builder;
  builder.AddListeningPort(options_.listen, grpc::InsecureServerCredentials(), &port_);
  builder.RegisterService(service_.get());
  builder.RegisterService(heartbeat_service_.get());
  ConfigureServerBuilder(&builder);
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    server_.reset();
    return Status::Unavailable("cannot listen on " + options_.listen);
  }
  const auto liveness_period = std::chrono::milliseconds(
      std::max<int64_t>(100, std::min<int64_t>(1000, options_.heartbeat_timeout_ms / 4)));
  liveness_ = std::make_unique<PeriodicTask>("chunkserver-liveness", liveness_period, [this] {
    for (const std::string& dead : registry_->ExpireSilent()) chunk_manager_->ServerDead(dead);
  });
  GarbageCollectorOptions gc_options;
  gc_options.trash_retention = std::chrono::seconds(options_.trash_retention_s);
  gc_options.interval = std::chrono::milliseconds(options_.gc_interval_ms);
  gc_ = std::make_unique<GarbageCollector>(gc_options, namespace_.get());
  replicator_ = std::make_unique<PeriodicTask>(
      "re-replication", std::chrono::milliseconds(options_.replication_check_ms),
      [this] { chunk_manager_->ReplicateOnce(options_.max_copies_per_round); });
  LOG(INFO) << "master serving on " << options_.listen << " (port " << port_ << "), metadata in "
            << options_.data_dir;
  return Status::OK();
}

Status MasterServer::StartHttp() {
  http_ = std::make_unique<HttpServer>(HttpServerOptions{options_.http_listen});
  auto collect = [this] {
    const double uptime = (Clock::Real()->MonotonicMicros() - start_us_) / 1e6;
    return CollectMasterMetrics(*log_, registry_.get(), chunk_manager_.get(), uptime);
  };
  http_->Register("/metrics", [collect] {
    return HttpReply{MetricSet::kPrometheusContentType, collect().ToPrometheusText()};
  });
  http_->Register("/", [this, collect] {
    return HttpReply{MetricSet::kStatusPageContentType,
                     collect().ToStatusPage("gfs-master, RPC on " + options_.listen +
                                            ", metadata in " + options_.data_dir)};
  });
  GFS_RETURN_IF_ERROR_PREPEND(http_->Start(), "--http_listen");
  LOG(INFO) << "master serving /metrics and / over HTTP on " << options_.http_listen << " (port "
            << http_->port() << ")";
  return Status::OK();
}

int MasterServer::http_port() const { return http_ == nullptr ? 0 : http_->port(); }

void MasterServer::Shutdown() {
  // First: its handlers read the components below.
  http_.reset();
  replicator_.reset();
  gc_.reset();
  liveness_.reset();
  if (server_ != nullptr) {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    server_->Wait();
    server_.reset();
    LOG(INFO) << "master stopped serving";
  }
  heartbeat_service_.reset();
  service_.reset();
  snapshotter_.reset();
  chunk_manager_.reset();
  chunkserver_client_.reset();
  registry_.reset();
  namespace_.reset();
  log_.reset();
}

}  // namespace gfs::master
