#include "chunkserver/chunkserver_service.h"

#include <glog/logging.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "common/grpc_status.h"
#include "common/inline_data.h"
#include "common/latch.h"
#include "common/push_data_wire.h"
#include "common/read_chunk_wire.h"

namespace gfs::chunkserver {

namespace {

// Marks one mutation started under a lease as finished when it goes out of scope.
class MutationInFlight {
 public:
  MutationInFlight(LeaseTable* leases, uint64_t handle) : leases_(leases), handle_(handle) {}
  ~MutationInFlight() { leases_->FinishMutation(handle_); }
  MutationInFlight(const MutationInFlight&) = delete;
  MutationInFlight& operator=(const MutationInFlight&) = delete;

 private:
  LeaseTable* const leases_;
  const uint64_t handle_;
};

// A mutation carries its data inline (data_id 0, length its size, within the limit)
// or names a push; never both.
Status CheckInlineData(const std::string& inline_data, uint64_t data_id, uint64_t length) {
  if (inline_data.empty()) return Status::OK();
  if (data_id != 0) {
    return Status::InvalidArgument("a mutation carries data inline and names push " +
                                   std::to_string(data_id));
  }
  if (inline_data.size() != length) {
    return Status::InvalidArgument("inline data has " + std::to_string(inline_data.size()) +
                                   " bytes, the mutation names " + std::to_string(length));
  }
  if (inline_data.size() > kMaxInlineBytes) {
    return Status::InvalidArgument("inline data has " + std::to_string(inline_data.size()) +
                                   " bytes, more than the " + std::to_string(kMaxInlineBytes) +
                                   " a mutation may carry");
  }
  return Status::OK();
}

}  // namespace

std::string HandleName(uint64_t handle) {
  char name[17];
  std::snprintf(name, sizeof(name), "%016llx", static_cast<unsigned long long>(handle));
  return name;
}

ChunkServerServiceImpl::ChunkServerServiceImpl(ChunkServerServiceOptions options, ChunkStore* store,
                                               PushBuffer* buffer, LeaseTable* leases,
                                               Heartbeater* heartbeater)
    : options_(std::move(options)),
      store_(store),
      buffer_(buffer),
      leases_(leases),
      heartbeater_(heartbeater) {}

ChunkServerServiceImpl::~ChunkServerServiceImpl() = default;

std::string ChunkServerServiceImpl::Describe(uint64_t handle) const {
  return "chunk " + HandleName(handle) + " on " + options_.advertise;
}

// ---- Data push ----

Status ChunkServerServiceImpl::ReceivePush(grpc::ServerReader<grpc::ByteBuffer>* reader) {
  const std::string here = "push to " + options_.advertise;
  grpc::ByteBuffer raw;
  if (!reader->Read(&raw)) return Status::InvalidArgument("push without a header");
  Result<ReceivedPushMessage> msg = ParsePushMessage(std::move(raw));
  if (!msg.ok()) return msg.status().Prepend(here);
  const uint64_t data_id = msg->header.data_id;
  GFS_RETURN_IF_ERROR_PREPEND(buffer_->Reserve(data_id, msg->header.length), here);

  // The next replica of the chain gets the same stream, minus itself, message by message:
  // the first with its header rewritten, the others as they arrived.
  grpc::ClientContext down_ctx;
  grpc::ByteBuffer down_resp;
  std::unique_ptr<grpc::ClientWriter<grpc::ByteBuffer>> down;
  std::string next;
  PushHeader down_header;
  if (!msg->header.chain.empty()) {
    next = msg->header.chain[0];
    down_header.data_id = data_id;
    down_header.length = msg->header.length;
    down_header.chain.assign(msg->header.chain.begin() + 1, msg->header.chain.end());
    down_ctx.set_deadline(std::chrono::system_clock::now() + options_.forward_timeout);
    down = OpenPushStream(peers_.GetChannel(next).get(), &down_ctx, &down_resp);
  }
  auto fail = [&](Status s) {
    buffer_->Remove(data_id);
    if (down != nullptr) down_ctx.TryCancel();
    return s;
  };

  bool first = true;
  while (true) {
    if (down != nullptr) {
      Result<grpc::ByteBuffer> forward = ForwardPushMessage(*msg, first ? &down_header : nullptr);
      if (!forward.ok()) return fail(forward.status().Prepend(here));
      if (!down->Write(*forward)) {
        Status s = FromGrpc(down->Finish());
        if (s.ok()) s = Status::Unavailable("stream closed");
        return fail(Status::Unavailable("forwarding push to " + next + ": " + s.ToString()));
      }
    }
    if (msg->data_bytes > 0) {
      Result<SliceList> data = PushMessageData(*msg);  // gRPC's buffers, not a copy
      if (!data.ok()) return fail(data.status().Prepend(here));
      Status appended = buffer_->Append(data_id, std::move(*data));
      if (!appended.ok()) return fail(appended.Prepend(here));
    }
    first = false;
    if (!reader->Read(&raw)) break;
    msg = ParsePushMessage(std::move(raw));
    if (!msg.ok()) return fail(msg.status().Prepend(here));
  }

  Status complete = buffer_->Complete(data_id);
  if (!complete.ok()) return fail(complete.Prepend(here));
  if (down != nullptr) {
    down->WritesDone();
    Status s = FromGrpc(down->Finish());
    if (!s.ok()) {
      buffer_->Remove(data_id);
      // Keep the code: RESOURCE_EXHAUSTED downstream is still that.
      return s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kDeadlineExceeded
                 ? Status::Unavailable("forwarding push to " + next + ": " + s.ToString())
                 : s.Prepend("forwarding push to " + next);
    }
  }
  return Status::OK();
}

PushDataService::PushDataService(ChunkServerServiceImpl* impl) {
  AddMethod(new grpc::internal::RpcServiceMethod(
      kPushDataMethod, grpc::internal::RpcMethod::CLIENT_STREAMING,
      new grpc::internal::ClientStreamingHandler<ChunkServerServiceImpl, grpc::ByteBuffer,
                                                 grpc::ByteBuffer>(
          [](ChunkServerServiceImpl* service, grpc::ServerContext*,
             grpc::ServerReader<grpc::ByteBuffer>* reader, grpc::ByteBuffer* reply) {
            // The reply, an empty PushDataResponse, is an empty message (which must still
            // be a buffer: a default ByteBuffer is none).
            *reply = grpc::ByteBuffer(nullptr, 0);
            return ToGrpc(service->ReceivePush(reader));
          },
          impl)));
}

// ---- Mutations ----

Status ChunkServerServiceImpl::ApplyInOrder(const proto::ApplyMutationRequest& m) {
  GFS_RETURN_IF_ERROR_PREPEND(
      order_.WaitTurn(m.handle(), m.version(), m.serial(), options_.mutation_order_timeout),
      Describe(m.handle()));
  Status s = [&]() -> Status {
    GFS_RETURN_IF_ERROR(CheckInlineData(m.inline_data(), m.data_id(), m.length()));
    // Only the first mutation of the lease that created the chunk may create it: a
    // replica lost after that must not come back holding only the later mutations.
    if (m.create() && m.serial() == 1) {
      GFS_RETURN_IF_ERROR(CreateIfMissing(m.handle(), m.version()));
    }
    GFS_ASSIGN_OR_RETURN(ChunkInfo info, store_->Info(m.handle()));
    if (info.version != m.version()) {
      return Status::FailedPrecondition("replica has version " + std::to_string(info.version) +
                                        ", the mutation names version " +
                                        std::to_string(m.version()));
    }
    if (m.pad_to() > 0) {
      GFS_RETURN_IF_ERROR(store_->ExtendTo(m.handle(), m.pad_to()));
    } else if (!m.inline_data().empty()) {
      GFS_RETURN_IF_ERROR(store_->Write(m.handle(), m.offset(), m.inline_data()));
    } else if (m.length() > 0) {
      Result<std::shared_ptr<const PushedData>> data = buffer_->Get(m.data_id());
      if (!data.ok()) {
        return Status::Aborted("pushed data " + std::to_string(m.data_id()) +
                               " is not here (never pushed, or expired)");
      }
      if ((*data)->size != m.length()) {
        return Status::InvalidArgument("pushed data has " + std::to_string((*data)->size) +
                                       " bytes, the mutation names " + std::to_string(m.length()));
      }
      uint64_t at = m.offset();
      for (size_t i = 0; i < (*data)->pieces.size(); ++i) {
        const std::vector<std::string_view> piece = (*data)->PieceViews(i);
        GFS_RETURN_IF_ERROR(store_->WriteParts(m.handle(), at, piece));
        for (std::string_view part : piece) at += part.size();
      }
    }
    if (m.flush()) GFS_RETURN_IF_ERROR(store_->Sync(m.handle()));
    return Status::OK();
  }();
  order_.Done(m.handle(), m.version(), m.serial());
  if (s.ok()) {
    mutations_.fetch_add(1, std::memory_order_relaxed);
    mutation_bytes_.fetch_add(m.length(), std::memory_order_relaxed);
  }
  if (s.ok() && m.data_id() != 0) buffer_->Remove(m.data_id());
  if (s.code() == StatusCode::kDataLoss) heartbeater_->ReportCorrupt(m.handle());
  return s.Prepend(Describe(m.handle()));
}

Status ChunkServerServiceImpl::ApplyEverywhere(
    const proto::ApplyMutationRequest& m, const std::vector<std::string>& secondaries,
    std::chrono::system_clock::time_point client_deadline) {
  // The secondaries apply it concurrently with the primary; each in serial order. The
  // calls are asynchronous (no thread per call: that was about 300 thread creations a
  // second per chunkserver under small files); each ends by its deadline.
  struct Forward {
    grpc::ClientContext ctx;
    proto::ApplyMutationResponse resp;
    Status status;
  };
  std::vector<Forward> forwards(secondaries.size());
  Latch all_done(secondaries.size());
  for (size_t i = 0; i < secondaries.size(); ++i) {
    Forward& f = forwards[i];
    f.ctx.set_deadline(
        std::min(std::chrono::system_clock::now() + options_.forward_timeout, client_deadline));
    peers_.Get(secondaries[i])
        ->async()
        ->ApplyMutation(&f.ctx, &m, &f.resp, [&f, &all_done](grpc::Status s) {
          f.status = FromGrpc(s);
          all_done.CountDown();
        });
  }
  Status local = ApplyInOrder(m);
  all_done.Wait();
  Status first_failure;
  for (size_t i = 0; i < forwards.size(); ++i) {
    const Status& s = forwards[i].status;
    if (!s.ok() && first_failure.ok()) {
      // Any replica failing fails the mutation: the client reports it to the master,
      // which moves the chunk to a new version on the replicas that still answer.
      first_failure = Status::Aborted("secondary " + secondaries[i] + ": " + s.ToString());
    }
  }
  return local.ok() ? first_failure : local;
}

grpc::Status ChunkServerServiceImpl::Write(grpc::ServerContext* ctx, const proto::WriteRequest* req,
                                           proto::WriteResponse*) {
  if (Status s = CheckInlineData(req->inline_data(), req->data_id(), req->length()); !s.ok()) {
    return ToGrpc(s.Prepend(Describe(req->handle())));
  }
  Result<LeaseTable::Lease> lease = leases_->StartMutation(req->handle(), req->version());
  if (!lease.ok()) return ToGrpc(lease.status().Prepend(Describe(req->handle())));
  const MutationInFlight in_flight(leases_, req->handle());
  proto::ApplyMutationRequest m;
  m.set_handle(req->handle());
  m.set_version(req->version());
  m.set_serial(lease->serial);
  m.set_offset(req->offset());
  m.set_data_id(req->data_id());
  m.set_length(req->length());
  m.set_inline_data(req->inline_data());
  m.set_flush(req->flush());
  m.set_create(lease->creates_secondaries);
  return ToGrpc(ApplyEverywhere(m, lease->secondaries, ctx->deadline()));
}

grpc::Status ChunkServerServiceImpl::Append(grpc::ServerContext* ctx,
                                            const proto::AppendRequest* req,
                                            proto::AppendResponse* resp) {
  if (Status s = CheckInlineData(req->inline_data(), req->data_id(), req->length()); !s.ok()) {
    return ToGrpc(s.Prepend(Describe(req->handle())));
  }
  Result<ChunkInfo> info = store_->Info(req->handle());
  if (!info.ok()) return ToGrpc(info.status().Prepend(Describe(req->handle())));
  Result<LeaseTable::Lease> lease =
      leases_->StartAppend(req->handle(), req->version(), req->length(), info->length);
  if (!lease.ok()) return ToGrpc(lease.status().Prepend(Describe(req->handle())));
  const MutationInFlight in_flight(leases_, req->handle());
  proto::ApplyMutationRequest m;
  m.set_handle(req->handle());
  m.set_version(req->version());
  m.set_serial(lease->serial);
  m.set_create(lease->creates_secondaries);
  if (lease->pad_to > 0) {
    m.set_pad_to(lease->pad_to);
  } else {
    m.set_offset(lease->offset);
    m.set_data_id(req->data_id());
    m.set_length(req->length());
    m.set_inline_data(req->inline_data());
  }
  if (Status s = ApplyEverywhere(m, lease->secondaries, ctx->deadline()); !s.ok()) {
    return ToGrpc(s);
  }
  resp->set_chunk_full(lease->pad_to > 0);
  resp->set_offset(lease->offset);
  return grpc::Status::OK;
}

grpc::Status ChunkServerServiceImpl::ApplyMutation(grpc::ServerContext*,
                                                   const proto::ApplyMutationRequest* req,
                                                   proto::ApplyMutationResponse*) {
  return ToGrpc(ApplyInOrder(*req));
}

// ---- Reads ----

grpc::Status ChunkServerServiceImpl::ServeRead(const proto::ReadChunkRequest& req,
                                               grpc::ByteBuffer* response) {
  Result<ChunkInfo> info = store_->Info(req.handle());
  if (!info.ok()) return ToGrpc(info.status().Prepend(Describe(req.handle())));
  if (info->version < req.version()) {
    return ToGrpc(Status::FailedPrecondition(
        Describe(req.handle()) + " is stale: version " + std::to_string(info->version) +
        ", the reader expects " + std::to_string(req.version())));
  }
  const uint64_t length = std::min(req.length(), options_.max_read_bytes);
  Result<ChunkBytes> bytes = store_->ReadBytes(req.handle(), req.offset(), length);
  if (!bytes.ok()) {
    if (bytes.status().code() == StatusCode::kDataLoss) {
      LOG(ERROR) << Describe(req.handle()) << ": " << bytes.status().ToString();
      heartbeater_->ReportCorrupt(req.handle());
    }
    return ToGrpc(bytes.status().Prepend(Describe(req.handle())));
  }
  reads_.fetch_add(1, std::memory_order_relaxed);
  read_bytes_.fetch_add(bytes->size, std::memory_order_relaxed);
  ReadChunkReplyBytes reply;
  reply.data = bytes->buffer.get() + bytes->offset;
  reply.size = bytes->size;
  reply.owner = std::move(bytes->buffer);
  reply.chunk_length = info->length;
  *response = EncodeReadChunkReply(std::move(reply));
  return grpc::Status::OK;
}

ServedCounts ChunkServerServiceImpl::served() const {
  ServedCounts counts;
  counts.reads = reads_.load(std::memory_order_relaxed);
  counts.read_bytes = read_bytes_.load(std::memory_order_relaxed);
  counts.mutations = mutations_.load(std::memory_order_relaxed);
  counts.mutation_bytes = mutation_bytes_.load(std::memory_order_relaxed);
  return counts;
}

// ---- Master calls ----

Status ChunkServerServiceImpl::CreateIfMissing(uint64_t handle, uint64_t version) {
  Status s = store_->Create(handle, version);
  if (s.ok()) {
    heartbeater_->ChunkChanged(handle);
    return s;
  }
  // Already here (a grant or mutation repeated): the version checks that follow decide.
  return s.IsAlreadyExists() ? Status::OK() : s;
}

grpc::Status ChunkServerServiceImpl::UpdateChunkVersion(grpc::ServerContext*,
                                                        const proto::UpdateChunkVersionRequest* req,
                                                        proto::UpdateChunkVersionResponse*) {
  // A lease at the old version must not outlive the version, nor any mutation under it.
  if (Status s = leases_->Revoke(req->handle()); !s.ok()) {
    return ToGrpc(s.Prepend(Describe(req->handle())));
  }
  if (req->create_incarnation() != 0 && !store_->Info(req->handle()).ok()) {
    // A new chunk whose first mutation never got here: the replica starts at the new
    // version, unless this process is not the one the chunk was placed on.
    if (req->create_incarnation() != options_.incarnation) {
      return ToGrpc(Status::NotFound(Describe(req->handle()) +
                                     " is not here, and this server restarted since the chunk "
                                     "was placed on it: not creating it"));
    }
    Status s = store_->Create(req->handle(), req->new_version());
    if (s.ok()) s = store_->Sync(req->handle());  // durable, as a version change is
    if (s.ok()) heartbeater_->ChunkChanged(req->handle());
    return ToGrpc(s.Prepend(Describe(req->handle())));
  }
  Status s = store_->SetVersion(req->handle(), req->expected_version(), req->new_version());
  if (s.ok()) heartbeater_->ChunkChanged(req->handle());
  return ToGrpc(s.Prepend(Describe(req->handle())));
}

grpc::Status ChunkServerServiceImpl::GrantLease(grpc::ServerContext*,
                                                const proto::GrantLeaseRequest* req,
                                                proto::GrantLeaseResponse*) {
  if (req->create()) {
    if (Status s = CreateIfMissing(req->handle(), req->version()); !s.ok()) {
      return ToGrpc(s.Prepend(Describe(req->handle())));
    }
  }
  Result<ChunkInfo> info = store_->Info(req->handle());
  if (!info.ok()) return ToGrpc(info.status().Prepend(Describe(req->handle())));
  if (info->version != req->version()) {
    return ToGrpc(Status::FailedPrecondition(Describe(req->handle()) + " has version " +
                                             std::to_string(info->version) + ", the lease names " +
                                             std::to_string(req->version())));
  }
  leases_->Grant(req->handle(), req->version(), req->lease_ms(), req->chunk_size(),
                 {req->secondaries().begin(), req->secondaries().end()}, req->create());
  VLOG(1) << "lease on " << Describe(req->handle()) << " at version " << req->version();
  return grpc::Status::OK;
}

grpc::Status ChunkServerServiceImpl::RevokeLease(grpc::ServerContext*,
                                                 const proto::RevokeLeaseRequest* req,
                                                 proto::RevokeLeaseResponse*) {
  // OK only once no mutation under the lease can still land.
  return ToGrpc(leases_->Revoke(req->handle()).Prepend(Describe(req->handle())));
}

grpc::Status ChunkServerServiceImpl::CloneChunk(grpc::ServerContext*,
                                                const proto::CloneChunkRequest* req,
                                                proto::CloneChunkResponse*) {
  Result<ChunkInfo> info = store_->Info(req->src());
  if (!info.ok()) return ToGrpc(info.status().Prepend(Describe(req->src())));
  if (info->version != req->version()) {
    return ToGrpc(Status::FailedPrecondition(
        Describe(req->src()) + " has version " + std::to_string(info->version) +
        ", the copy asks for " + std::to_string(req->version())));
  }
  Status s = store_->Clone(req->src(), req->dst(), req->version());
  if (s.ok()) heartbeater_->ChunkChanged(req->dst());
  if (s.code() == StatusCode::kDataLoss) heartbeater_->ReportCorrupt(req->src());
  return ToGrpc(s.Prepend(Describe(req->src())));
}

Result<uint64_t> ChunkServerServiceImpl::FetchReplica(uint64_t handle, uint64_t version,
                                                      const std::string& source) {
  uint64_t offset = 0;
  while (true) {
    proto::ReadChunkRequest req;
    req.set_handle(handle);
    req.set_version(version);
    req.set_offset(offset);
    req.set_length(options_.max_read_bytes);
    proto::ReadChunkResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + options_.forward_timeout);
    GFS_RETURN_IF_ERROR(FromGrpc(peers_.Get(source)->ReadChunk(&ctx, req, &resp))
                            .Prepend("reading from " + source));
    if (!resp.data().empty()) GFS_RETURN_IF_ERROR(store_->Write(handle, offset, resp.data()));
    offset += resp.data().size();
    if (resp.data().empty() || offset >= resp.chunk_length()) break;
  }
  GFS_RETURN_IF_ERROR(store_->Sync(handle));
  return offset;
}

grpc::Status ChunkServerServiceImpl::CopyChunkFrom(grpc::ServerContext*,
                                                   const proto::CopyChunkFromRequest* req,
                                                   proto::CopyChunkFromResponse* resp) {
  // A replica of an older version here is stale garbage: the copy replaces it.
  Result<ChunkInfo> existing = store_->Info(req->handle());
  if (existing.ok()) {
    if (existing->version >= req->version()) {
      return ToGrpc(Status::AlreadyExists(Describe(req->handle()) + " is already here"));
    }
    if (Status s = store_->Delete(req->handle()); !s.ok()) return ToGrpc(s);
  }
  // Made at version 0 and moved to the real version only once complete: a crash midway
  // leaves a replica every master sees as stale, never a short one passing as current.
  if (Status s = store_->Create(req->handle(), 0); !s.ok()) {
    return ToGrpc(s.Prepend(Describe(req->handle())));
  }
  Result<uint64_t> copied = FetchReplica(req->handle(), req->version(), req->source());
  if (copied.ok()) {
    if (Status s = store_->SetVersion(req->handle(), 0, req->version()); !s.ok()) copied = s;
  }
  if (!copied.ok()) {
    (void)store_->Delete(req->handle());  // no partial replica left behind
    return ToGrpc(copied.status().Prepend("copying " + Describe(req->handle())));
  }
  heartbeater_->ChunkChanged(req->handle());
  resp->set_length(*copied);
  LOG(INFO) << "copied " << Describe(req->handle()) << " (" << *copied << " bytes) from "
            << req->source();
  return grpc::Status::OK;
}

}  // namespace gfs::chunkserver
