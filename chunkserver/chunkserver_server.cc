#include "chunkserver/chunkserver_server.h"

#include <glog/logging.h>
#include <grpcpp/grpcpp.h>

#include <random>

#include "chunkserver/chunk_store.h"
#include "chunkserver/chunkserver_metrics.h"
#include "chunkserver/chunkserver_service.h"
#include "chunkserver/heartbeater.h"
#include "chunkserver/lease_table.h"
#include "chunkserver/push_buffer.h"
#include "chunkserver/read_server.h"
#include "common/grpc_server.h"
#include "common/http_server.h"
#include "common/metrics.h"
#include "common/periodic_task.h"

namespace gfs::chunkserver {
namespace {

// Random, never 0 (which means "none" on the wire).
uint64_t NewIncarnation() {
  std::random_device random;
  const uint64_t high = random();
  return (high << 32 | random()) | 1;
}

}  // namespace

ChunkServer::ChunkServer(ChunkServerOptions options) : options_(std::move(options)) {}

ChunkServer::~ChunkServer() { Shutdown(); }

Status ChunkServer::Start() {
  if (options_.data_dir.empty()) return Status::InvalidArgument("--data_dir is required");
  if (options_.advertise.empty() || options_.advertise.rfind("0.0.0.0:", 0) == 0) {
    return Status::InvalidArgument("advertised address '" + options_.advertise +
                                   "' is not one clients can reach");
  }
  ChunkStoreOptions store_options;
  store_options.max_chunk_bytes = options_.max_chunk_bytes;
  GFS_ASSIGN_OR_RETURN(store_, ChunkStore::Open(options_.data_dir, store_options));
  buffer_ = std::make_unique<PushBuffer>(options_.push_buffer_bytes, options_.push_buffer_ttl,
                                         Clock::Real());
  leases_ = std::make_unique<LeaseTable>(Clock::Real());
  incarnation_ = NewIncarnation();
  HeartbeaterOptions hb;
  hb.incarnation = incarnation_;
  hb.masters = options_.masters;
  hb.advertise = options_.advertise;
  hb.rack = options_.rack;
  hb.interval = options_.heartbeat_interval;
  heartbeater_ = std::make_unique<Heartbeater>(hb, store_.get(), leases_.get(), Clock::Real());
  ChunkServerServiceOptions service_options;
  service_options.advertise = options_.advertise;
  service_options.incarnation = incarnation_;
  service_ = std::make_unique<ChunkServerServiceImpl>(service_options, store_.get(), buffer_.get(),
                                                      leases_.get(), heartbeater_.get());
  start_us_ = Clock::Real()->MonotonicMicros();
  // Before the RPC server, so that a chunkserver that cannot serve HTTP never serves.
  if (!options_.http_listen.empty()) GFS_RETURN_IF_ERROR(StartHttp());

  grpc::ServerBuilder builder;
  builder.AddListeningPort(options_.listen, grpc::InsecureServerCredentials(), &port_);
  builder.RegisterService(service_.get());
  push_service_ = std::make_unique<PushDataService>(service_.get());
  builder.RegisterService(push_service_.get());
  // ChunkServerServiceImpl leaves PushData to push_service_ by marking it generic, and
  // gRPC then wants a generic service: this one answers methods nobody registered
  // with UNIMPLEMENTED, as the server does without one.
  unknown_methods_ = std::make_unique<grpc::CallbackGenericService>();
  builder.RegisterCallbackGenericService(unknown_methods_.get());
  ConfigureServerBuilder(&builder);
  read_queue_ = builder.AddCompletionQueue();
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    server_.reset();
    read_queue_.reset();  // never used: nothing to drain
    return Status::Unavailable("cannot listen on " + options_.listen);
  }
  read_server_ = std::make_unique<ReadServer>(service_.get(), read_queue_.get(), kReadThreads);
  read_server_->Start();
  sweeper_ = std::make_unique<PeriodicTask>(
      "push-buffer-expiry", std::chrono::milliseconds(2000), [buffer = buffer_.get()] {
        size_t dropped = buffer->ExpireOld();
        if (dropped > 0) LOG(INFO) << "dropped " << dropped << " expired pushes";
      });
  heartbeater_->Start();
  LOG(INFO) << "[cs " << options_.advertise << "] serving on " << options_.listen << ", "
            << store_->List().size() << " chunks in " << options_.data_dir << ", rack "
            << options_.rack << ", incarnation " << std::hex << incarnation_;
  return Status::OK();
}

Status ChunkServer::StartHttp() {
  http_ = std::make_unique<HttpServer>(HttpServerOptions{options_.http_listen});
  auto collect = [this] {
    const double uptime = (Clock::Real()->MonotonicMicros() - start_us_) / 1e6;
    return CollectChunkServerMetrics(store_.get(), *buffer_, options_.push_buffer_bytes,
                                     service_->served(), uptime);
  };
  http_->Register("/metrics", [collect] {
    return HttpReply{MetricSet::kPrometheusContentType, collect().ToPrometheusText()};
  });
  http_->Register("/", [this, collect] {
    return HttpReply{
        MetricSet::kStatusPageContentType,
        collect().ToStatusPage("gfs-chunkserver " + options_.advertise + ", rack " + options_.rack +
                               ", data in " + options_.data_dir + ", master " + options_.masters)};
  });
  GFS_RETURN_IF_ERROR_PREPEND(http_->Start(), "--http_listen");
  LOG(INFO) << "[cs " << options_.advertise << "] serving /metrics and / over HTTP on "
            << options_.http_listen << " (port " << http_->port() << ")";
  return Status::OK();
}

int ChunkServer::http_port() const { return http_ == nullptr ? 0 : http_->port(); }

void ChunkServer::Shutdown() {
  // First: its handlers read the components below.
  http_.reset();
  if (heartbeater_ != nullptr) heartbeater_->Shutdown();
  if (server_ != nullptr) {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    // After the server: it cancels the read calls still requested on the queue.
    if (read_server_ != nullptr) read_server_->Shutdown();
    server_->Wait();
    server_.reset();
    read_server_.reset();
    read_queue_.reset();
    LOG(INFO) << "[cs " << options_.advertise << "] stopped serving";
  }
  sweeper_.reset();
  unknown_methods_.reset();
  push_service_.reset();
  service_.reset();
  heartbeater_.reset();
  leases_.reset();
  buffer_.reset();
  store_.reset();
}

}  // namespace gfs::chunkserver
