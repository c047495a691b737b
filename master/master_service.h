// The gRPC face of the master: thin adapters from MasterService RPCs to the Namespace.
// Checks nothing the Namespace checks; converts statuses at the boundary.
//
// Thread-safe (gRPC calls handlers concurrently).
#pragma once

#include "master/op_log.h"
#include "protos/master.grpc.pb.h"

namespace gfs::master {

class Namespace;

class MasterServiceImpl final : public proto::MasterService::Service {
 public:
  // `ns` and `log` must outlive the service.
  MasterServiceImpl(Namespace* ns, OpLog* log) : ns_(ns), log_(log) {}

  grpc::Status Ping(grpc::ServerContext* ctx, const proto::PingRequest* req,
                    proto::PingResponse* resp) override;
  grpc::Status GetStatus(grpc::ServerContext* ctx, const proto::GetStatusRequest* req,
                         proto::GetStatusResponse* resp) override;
  grpc::Status Mkdir(grpc::ServerContext* ctx, const proto::MkdirRequest* req,
                     proto::MkdirResponse* resp) override;
  grpc::Status CreateFile(grpc::ServerContext* ctx, const proto::CreateFileRequest* req,
                          proto::CreateFileResponse* resp) override;
  grpc::Status Stat(grpc::ServerContext* ctx, const proto::StatRequest* req,
                    proto::StatResponse* resp) override;
  grpc::Status List(grpc::ServerContext* ctx, const proto::ListRequest* req,
                    proto::ListResponse* resp) override;
  grpc::Status Delete(grpc::ServerContext* ctx, const proto::DeleteRequest* req,
                      proto::DeleteResponse* resp) override;
  grpc::Status Rename(grpc::ServerContext* ctx, const proto::RenameRequest* req,
                      proto::RenameResponse* resp) override;

 private:
  Namespace* const ns_;
  OpLog* const log_;
};

}  // namespace gfs::master
