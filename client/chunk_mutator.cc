#include "client/chunk_mutator.h"

#include <glog/logging.h>

#include <algorithm>
#include <random>

#include "client/retry_backoff.h"
#include "common/grpc_status.h"
#include "common/inline_data.h"
#include "common/push_data_wire.h"

namespace gfs::client {
namespace {

using Clock = std::chrono::steady_clock;

uint64_t RandomDataId() {
  thread_local std::mt19937_64 rng(std::random_device{}() ^
                                   static_cast<uint64_t>(Clock::now().time_since_epoch().count()));
  uint64_t id = 0;
  while (id == 0) id = rng();
  return id;
}

// The deadline of one RPC: the attempt timeout, cut short by the operation's deadline.
void SetDeadline(grpc::ClientContext* ctx, Clock::time_point deadline,
                 std::chrono::milliseconds rpc_timeout) {
  const auto timeout =
      std::max<Clock::duration>(std::min<Clock::duration>(deadline - Clock::now(), rpc_timeout),
                                std::chrono::milliseconds(1));
  ctx->set_deadline(std::chrono::system_clock::now() + timeout);
}

// True if `message` names `address` as a whole ("...:7001" does not match "...:70012").
bool Mentions(const std::string& message, const std::string& address) {
  for (size_t pos = message.find(address); pos != std::string::npos;
       pos = message.find(address, pos + 1)) {
    const size_t end = pos + address.size();
    if (end == message.size() || message[end] < '0' || message[end] > '9') return true;
  }
  return false;
}

bool Unreachable(const Status& status) {
  return status.code() == StatusCode::kUnavailable ||
         status.code() == StatusCode::kDeadlineExceeded;
}

}  // namespace

ChunkMutator::ChunkMutator(std::shared_ptr<MasterChannel> lease_master,
                           std::shared_ptr<ChunkServerPool> chunkservers,
                           const ClientOptions& options)
    : lease_master_(std::move(lease_master)),
      chunkservers_(std::move(chunkservers)),
      options_(options) {}

Status ChunkMutator::Mutate(const std::string& path, uint64_t inode_id, uint64_t chunk_size,
                            uint64_t file_offset, std::string_view data, bool flush,
                            const std::atomic<bool>* cancelled) {
  if (chunk_size == 0) return Status::Internal("write " + path + ": chunk size 0");
  const uint64_t index = file_offset / chunk_size;
  const uint64_t offset_in_chunk = file_offset % chunk_size;
  const std::string what = data.empty() && flush
                               ? "sync " + path + " chunk " + std::to_string(index)
                               : "write " + path + " at offset " + std::to_string(file_offset);
  return RetryWithLease(
      what, path, inode_id, index,
      [&](const WriteLease& lease, Clock::time_point deadline, std::vector<std::string>* failed) {
        if (lease.chunk_size != chunk_size || offset_in_chunk + data.size() > chunk_size) {
          return Status::Internal("mutation of " + std::to_string(data.size()) +
                                  " bytes does not fit the chunk size " +
                                  std::to_string(lease.chunk_size));
        }
        return Attempt(lease, offset_in_chunk, data, flush, deadline, failed);
      },
      cancelled);
}

Result<ChunkMutator::AppendOutcome> ChunkMutator::Append(const std::string& path, uint64_t inode_id,
                                                         uint64_t index, std::string_view record) {
  AppendOutcome outcome;
  const std::string what = "append " + path + " chunk " + std::to_string(index);
  GFS_RETURN_IF_ERROR(RetryWithLease(
      what, path, inode_id, index,
      [&](const WriteLease& lease, Clock::time_point deadline, std::vector<std::string>* failed) {
        proto::AppendRequest req;
        req.set_handle(lease.handle);
        req.set_version(lease.version);
        req.set_length(record.size());
        if (SendsInline(record.size())) {
          req.set_inline_data(record.data(), record.size());
        } else {
          req.set_data_id(RandomDataId());
          GFS_RETURN_IF_ERROR(Push(lease, req.data_id(), record, deadline, failed));
        }
        proto::AppendResponse resp;
        grpc::ClientContext ctx;
        SetDeadline(&ctx, deadline, options_.rpc_timeout);
        const Status s = FromGrpc(chunkservers_->Get(lease.primary)->Append(&ctx, req, &resp));
        if (!s.ok()) {
          NoteFailedReplicas(lease, s, failed);
          return s.Prepend("append through primary " + lease.primary);
        }
        outcome.chunk_full = resp.chunk_full();
        outcome.offset = resp.offset();
        return Status::OK();
      },
      nullptr));
  return outcome;
}

Status ChunkMutator::RetryWithLease(const std::string& what, const std::string& path,
                                    uint64_t inode_id, uint64_t index, const AttemptFn& attempt,
                                    const std::atomic<bool>* cancelled) {
  const Clock::time_point deadline = Clock::now() + options_.data_timeout;
  RetryBackoff backoff(options_.initial_backoff, options_.max_backoff);
  Status last;
  int attempts = 0;
  while (true) {
    if (cancelled != nullptr && cancelled->load()) {
      return Status::Aborted(what + ": the writer was abandoned");
    }
    ++attempts;
    Result<WriteLease> lease = GetLease(path, inode_id, index);
    if (!lease.ok()) {
      if (!Unreachable(lease.status())) return lease.status().Prepend(what);
      last = lease.status().Prepend("get write lease");
    } else {
      std::vector<std::string> failed;
      const Status s = attempt(*lease, deadline, &failed);
      if (s.ok()) return Status::OK();
      leases_.Drop(inode_id, index);
      last = s;
      if (s.code() == StatusCode::kUnimplemented || s.code() == StatusCode::kInvalidArgument ||
          s.code() == StatusCode::kInternal) {
        return s.Prepend(what);
      }
      // FAILED_PRECONDITION: the lease moved or expired; the master knows better, so
      // just ask it again. Anything else: the replicas may disagree now; the master
      // must revoke the lease and bump the version before the next attempt.
      if (s.code() != StatusCode::kFailedPrecondition) ReportFailure(*lease, failed);
      VLOG(1) << what << ": attempt " << attempts << " failed: " << s.ToString();
    }
    if (!backoff.SleepUnless(deadline)) {
      return Status(last.code(), what + ": " + last.message() + " (gave up after " +
                                     std::to_string(attempts) + " attempts)");
    }
  }
}

Result<WriteLease> ChunkMutator::GetLease(const std::string& path, uint64_t inode_id,
                                          uint64_t index) {
  if (std::optional<WriteLease> cached = leases_.Get(inode_id, index)) return *cached;
  proto::GetWriteLeaseRequest req;
  req.set_path(path);
  req.set_index(index);
  req.set_inode_id(inode_id);
  proto::GetWriteLeaseResponse resp;
  GFS_RETURN_IF_ERROR(lease_master_->Call("lease " + path + " chunk " + std::to_string(index),
                                          [&](MasterChannel::Stub* stub, grpc::ClientContext* ctx) {
                                            return stub->GetWriteLease(ctx, req, &resp);
                                          }));
  WriteLease lease;
  lease.handle = resp.handle();
  lease.version = resp.version();
  lease.primary = resp.primary();
  lease.replicas.assign(resp.replicas().begin(), resp.replicas().end());
  lease.chunk_size = resp.chunk_size();
  if (lease.primary.empty() || lease.replicas.empty()) {
    return Status::Unavailable("the master named no primary or no replicas");
  }
  leases_.Put(inode_id, index, lease);
  return lease;
}

Status ChunkMutator::Attempt(const WriteLease& lease, uint64_t offset_in_chunk,
                             std::string_view data, bool flush, Clock::time_point deadline,
                             std::vector<std::string>* failed) {
  proto::WriteRequest req;
  req.set_handle(lease.handle);
  req.set_version(lease.version);
  req.set_offset(offset_in_chunk);
  req.set_length(data.size());
  req.set_flush(flush);
  if (SendsInline(data.size())) {
    req.set_inline_data(data.data(), data.size());
  } else if (!data.empty()) {
    req.set_data_id(RandomDataId());
    GFS_RETURN_IF_ERROR(Push(lease, req.data_id(), data, deadline, failed));
  }
  proto::WriteResponse resp;
  grpc::ClientContext ctx;
  SetDeadline(&ctx, deadline, options_.rpc_timeout);
  const Status s = FromGrpc(chunkservers_->Get(lease.primary)->Write(&ctx, req, &resp));
  if (s.ok()) return s;
  NoteFailedReplicas(lease, s, failed);
  return s.Prepend("write through primary " + lease.primary);
}

bool ChunkMutator::SendsInline(size_t bytes) const {
  return bytes > 0 && bytes <= std::min(options_.inline_write_bytes, kMaxInlineBytes);
}

void ChunkMutator::NoteFailedReplicas(const WriteLease& lease, const Status& s,
                                      std::vector<std::string>* failed) {
  // The primary fans out to every secondary: a secondary it names is the one that
  // failed; if it names none and could not be reached itself, it is the primary.
  for (const std::string& replica : lease.replicas) {
    if (replica != lease.primary && Mentions(s.message(), replica)) failed->push_back(replica);
  }
  if (failed->empty() && Unreachable(s)) failed->push_back(lease.primary);
}

Status ChunkMutator::Push(const WriteLease& lease, uint64_t data_id, std::string_view data,
                          Clock::time_point deadline, std::vector<std::string>* failed) {
  const std::string& first = lease.replicas[0];
  const size_t piece = options_.push_piece_bytes > 0 ? options_.push_piece_bytes : 1 << 20;
  grpc::ClientContext ctx;
  SetDeadline(&ctx, deadline, options_.rpc_timeout);
  grpc::ByteBuffer resp;
  std::unique_ptr<grpc::ClientWriter<grpc::ByteBuffer>> stream =
      OpenPushStream(chunkservers_->GetChannel(first).get(), &ctx, &resp);
  PushHeader header;
  header.data_id = data_id;
  header.length = data.size();
  header.chain.assign(lease.replicas.begin() + 1, lease.replicas.end());
  size_t sent = 0;
  bool stream_ok = true;
  do {
    const size_t n = std::min(piece, data.size() - sent);
    // Each piece is copied once, into the message (common/push_data_wire.h).
    stream_ok =
        stream->Write(EncodePushMessage(sent == 0 ? &header : nullptr, data.substr(sent, n)));
    sent += n;
  } while (stream_ok && sent < data.size());
  if (stream_ok) stream->WritesDone();
  Status s = FromGrpc(stream->Finish());
  if (s.ok() && !stream_ok) s = Status::Unavailable("the push stream broke");
  if (s.ok()) return s;
  // Along a chain the deepest replica the error names is the one that failed (each hop
  // prefixes its own context); if it names none, the first could not be reached.
  for (size_t i = lease.replicas.size(); i-- > 1;) {
    if (Mentions(s.message(), lease.replicas[i])) {
      failed->push_back(lease.replicas[i]);
      break;
    }
  }
  if (failed->empty() && Unreachable(s)) failed->push_back(first);
  return s.Prepend("push to " + first);
}

void ChunkMutator::ReportFailure(const WriteLease& lease, const std::vector<std::string>& failed) {
  proto::ReportWriteFailureRequest req;
  req.set_handle(lease.handle);
  req.set_version(lease.version);
  for (const std::string& replica : failed) req.add_failed_replicas(replica);
  proto::ReportWriteFailureResponse resp;
  const Status s = lease_master_->Call("report write failure",
                                       [&](MasterChannel::Stub* stub, grpc::ClientContext* ctx) {
                                         return stub->ReportWriteFailure(ctx, req, &resp);
                                       });
  if (!s.ok()) VLOG(1) << "chunk " << lease.handle << ": " << s.ToString();
}

}  // namespace gfs::client
