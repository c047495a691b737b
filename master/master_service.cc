#include "master/master_service.h"

#include "common/clock.h"
#include "common/grpc_status.h"
#include "common/path.h"
#include "master/chunk_manager.h"
#include "master/chunkserver_registry.h"
#include "master/namespace.h"
#include "master/snapshotter.h"

namespace gfs::master {
namespace {

// Copies a Result's value into a response field, or returns its status.
template <typename T>
grpc::Status Reply(Result<T> result, T* field) {
  if (!result.ok()) return ToGrpc(result.status());
  *field = std::move(result).value();
  return grpc::Status::OK;
}

// Proposes `entry` and finishes the call with the result once durable, copying the
// entry's FileInfo into `info` when given. gRPC keeps `info` alive until Finish.
grpc::ServerUnaryReactor* ProposeAndFinish(Namespace* ns, grpc::CallbackServerContext* ctx,
                                           Result<proto::LogEntry> entry, proto::FileInfo* info) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  if (!entry.ok()) {
    reactor->Finish(ToGrpc(entry.status()));
    return reactor;
  }
  ns->ProposeAsync(std::move(entry).value(), [reactor, info](ApplyResult result) {
    if (result.status.ok() && info != nullptr) *info = std::move(result.info);
    reactor->Finish(ToGrpc(result.status));
  });
  return reactor;
}

}  // namespace

grpc::Status MasterServiceImpl::Ping(grpc::ServerContext*, const proto::PingRequest*,
                                     proto::PingResponse* resp) {
  *resp->mutable_applied() = log_->applied();
  return grpc::Status::OK;
}

grpc::Status MasterServiceImpl::GetStatus(grpc::ServerContext*, const proto::GetStatusRequest*,
                                          proto::GetStatusResponse* resp) {
  *resp->mutable_applied() = log_->applied();
  const OpLog::Stats stats = log_->stats();
  resp->set_proposals(stats.proposals);
  resp->set_logged_entries(stats.logged_entries);
  resp->set_synced_writes(stats.synced_writes);
  return grpc::Status::OK;
}

grpc::ServerUnaryReactor* MasterServiceImpl::Mkdir(grpc::CallbackServerContext* ctx,
                                                   const proto::MkdirRequest* req,
                                                   proto::MkdirResponse* resp) {
  return ProposeAndFinish(ns_, ctx, ns_->MkdirEntry(req->path(), req->parents()),
                          resp->mutable_info());
}

grpc::ServerUnaryReactor* MasterServiceImpl::CreateFile(grpc::CallbackServerContext* ctx,
                                                        const proto::CreateFileRequest* req,
                                                        proto::CreateFileResponse* resp) {
  return ProposeAndFinish(
      ns_, ctx, ns_->CreateFileEntry(req->path(), req->replication(), req->ok_if_exists()),
      resp->mutable_info());
}

grpc::Status MasterServiceImpl::Stat(grpc::ServerContext*, const proto::StatRequest* req,
                                     proto::StatResponse* resp) {
  return Reply(ns_->Stat(req->path()), resp->mutable_info());
}

grpc::Status MasterServiceImpl::List(grpc::ServerContext*, const proto::ListRequest* req,
                                     proto::ListResponse* resp) {
  return ToGrpc(ns_->List(req->path(), req->start_after(), req->limit(), resp));
}

grpc::ServerUnaryReactor* MasterServiceImpl::Delete(grpc::CallbackServerContext* ctx,
                                                    const proto::DeleteRequest* req,
                                                    proto::DeleteResponse*) {
  return ProposeAndFinish(ns_, ctx, ns_->DeleteEntry(req->path(), req->recursive()), nullptr);
}

grpc::ServerUnaryReactor* MasterServiceImpl::Rename(grpc::CallbackServerContext* ctx,
                                                    const proto::RenameRequest* req,
                                                    proto::RenameResponse*) {
  return ProposeAndFinish(ns_, ctx, ns_->RenameEntry(req->src(), req->dst()), nullptr);
}

grpc::Status MasterServiceImpl::Undelete(grpc::ServerContext*, const proto::UndeleteRequest* req,
                                         proto::UndeleteResponse* resp) {
  return Reply(ns_->Undelete(req->path()), resp->mutable_info());
}

grpc::Status MasterServiceImpl::Snapshot(grpc::ServerContext*, const proto::SnapshotRequest* req,
                                         proto::SnapshotResponse*) {
  return ToGrpc(snapshotter_->Snapshot(req->src(), req->dst()));
}

grpc::Status MasterServiceImpl::GetChunkLocations(grpc::ServerContext*,
                                                  const proto::GetChunkLocationsRequest* req,
                                                  proto::GetChunkLocationsResponse* resp) {
  if (Status s = ValidatePath(req->path()); !s.ok()) return ToGrpc(s);
  return ToGrpc(chunks_->GetChunkLocations(req->path(), req->first_index(), req->count(), resp));
}

grpc::Status MasterServiceImpl::GetWriteLease(grpc::ServerContext*,
                                              const proto::GetWriteLeaseRequest* req,
                                              proto::GetWriteLeaseResponse* resp) {
  if (Status s = ValidatePath(req->path()); !s.ok()) return ToGrpc(s);
  return ToGrpc(chunks_->GetWriteLease(req->path(), req->index(), resp, req->inode_id()));
}

grpc::Status MasterServiceImpl::ReportWriteFailure(grpc::ServerContext*,
                                                   const proto::ReportWriteFailureRequest* req,
                                                   proto::ReportWriteFailureResponse*) {
  chunks_->ReportWriteFailure(req->handle(), req->version(),
                              {req->failed_replicas().begin(), req->failed_replicas().end()});
  return grpc::Status::OK;
}

grpc::ServerUnaryReactor* MasterServiceImpl::ExtendFile(grpc::CallbackServerContext* ctx,
                                                        const proto::ExtendFileRequest* req,
                                                        proto::ExtendFileResponse* resp) {
  return ProposeAndFinish(ns_, ctx,
                          ns_->ExtendFileEntry(req->path(), req->length(), req->inode_id()),
                          resp->mutable_info());
}

grpc::Status MasterServiceImpl::ListChunkServers(grpc::ServerContext*,
                                                 const proto::ListChunkServersRequest*,
                                                 proto::ListChunkServersResponse* resp) {
  const std::map<std::string, uint64_t> counts = chunks_->ReplicaCounts();
  const int64_t now = Clock::Real()->MonotonicMicros();
  for (const ChunkServerStatus& server : registry_->List()) {
    proto::ChunkServerInfo* info = resp->add_servers();
    info->set_address(server.address);
    info->set_rack(server.rack);
    info->set_alive(server.alive);
    auto it = counts.find(server.address);
    info->set_chunks(it == counts.end() ? 0 : it->second);
    info->set_used_bytes(server.used_bytes);
    info->set_capacity_bytes(server.capacity_bytes);
    info->set_last_heartbeat_ms_ago((now - server.last_heartbeat_us) / 1000);
  }
  return grpc::Status::OK;
}

grpc::Status HeartbeatServiceImpl::Heartbeat(grpc::ServerContext*,
                                             const proto::HeartbeatRequest* req,
                                             proto::HeartbeatResponse* resp) {
  if (req->address().empty()) {
    return ToGrpc(Status::InvalidArgument("heartbeat without the chunkserver's address"));
  }
  const bool needs_full_report = registry_->Heartbeat(
      req->address(), req->rack(), req->capacity_bytes(), req->used_bytes(), req->full_report());
  if (needs_full_report) {
    resp->set_reregister(true);
    return grpc::Status::OK;
  }
  chunks_->ProcessHeartbeat(*req, resp);
  return grpc::Status::OK;
}

}  // namespace gfs::master
