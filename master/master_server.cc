#include "master/master_server.h"

#include <glog/logging.h>
#include <grpcpp/grpcpp.h>

#include <chrono>

#include "master/master_service.h"
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
  service_ = std::make_unique<MasterServiceImpl>(namespace_.get(), log_.get());

  grpc::ServerBuilder builder;
  builder.AddListeningPort(options_.listen, grpc::InsecureServerCredentials(), &port_);
  builder.RegisterService(service_.get());
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    server_.reset();
    return Status::Unavailable("cannot listen on " + options_.listen);
  }
  LOG(INFO) << "master serving on " << options_.listen << " (port " << port_ << "), metadata in "
            << options_.data_dir;
  return Status::OK();
}

void MasterServer::Shutdown() {
  if (server_ != nullptr) {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    server_->Wait();
    server_.reset();
    LOG(INFO) << "master stopped serving";
  }
  service_.reset();
  namespace_.reset();
  log_.reset();
}

}  // namespace gfs::master
