// The gRPC face of a chunkserver: data push (forwarded down the chain as it arrives),
// mutations (ordered by the primary, applied in serial order everywhere), reads with
// checksum verification, and the master's chunk-management calls.
//
// Thread-safe (gRPC calls handlers concurrently).
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "chunkserver/chunk_store.h"
#include "chunkserver/chunkserver_metrics.h"
#include "chunkserver/heartbeater.h"
#include "chunkserver/lease_table.h"
#include "chunkserver/mutation_order.h"
#include "chunkserver/push_buffer.h"
#include "common/stub_cache.h"
#include "protos/chunkserver.grpc.pb.h"

namespace gfs::chunkserver {

struct ChunkServerServiceOptions {
  // This server's address, for messages.
  std::string advertise;
  // How long a mutation waits for its predecessors before failing.
  std::chrono::milliseconds mutation_order_timeout{10000};
  // Deadline of one forwarded call (push downstream, mutation to a secondary).
  std::chrono::milliseconds forward_timeout{30000};
  // The largest read served in one call.
  uint64_t max_read_bytes = 8ull << 20;
  // This process's incarnation (HeartbeatRequest.incarnation).
  uint64_t incarnation = 0;
};

// ReadChunk is served through the completion-queue API with the reply encoded by hand
// (chunkserver/read_server.h), so that the bytes read go to the socket without a copy
// (common/read_chunk_wire.h). PushData is left to PushDataService, which hands the
// messages over as gRPC received them (common/push_data_wire.h).
class ChunkServerServiceImpl final : public proto::ChunkServerService::WithRawMethod_ReadChunk<
                                         proto::ChunkServerService::WithGenericMethod_PushData<
                                             proto::ChunkServerService::Service>> {
 public:
  // Every pointer must outlive the service.
  ChunkServerServiceImpl(ChunkServerServiceOptions options, ChunkStore* store, PushBuffer* buffer,
                         LeaseTable* leases, Heartbeater* heartbeater);
  ~ChunkServerServiceImpl() override;

  // Keeps a PushData stream in the push buffer while passing each message on, as it
  // is, to the next replica of the chain (PushDataService calls it).
  Status ReceivePush(grpc::ServerReader<grpc::ByteBuffer>* reader);

  grpc::Status Write(grpc::ServerContext* ctx, const proto::WriteRequest* req,
                     proto::WriteResponse* resp) override;
  grpc::Status Append(grpc::ServerContext* ctx, const proto::AppendRequest* req,
                      proto::AppendResponse* resp) override;
  grpc::Status ApplyMutation(grpc::ServerContext* ctx, const proto::ApplyMutationRequest* req,
                             proto::ApplyMutationResponse* resp) override;
  grpc::Status UpdateChunkVersion(grpc::ServerContext* ctx,
                                  const proto::UpdateChunkVersionRequest* req,
                                  proto::UpdateChunkVersionResponse* resp) override;
  grpc::Status GrantLease(grpc::ServerContext* ctx, const proto::GrantLeaseRequest* req,
                          proto::GrantLeaseResponse* resp) override;
  grpc::Status RevokeLease(grpc::ServerContext* ctx, const proto::RevokeLeaseRequest* req,
                           proto::RevokeLeaseResponse* resp) override;
  grpc::Status CloneChunk(grpc::ServerContext* ctx, const proto::CloneChunkRequest* req,
                          proto::CloneChunkResponse* resp) override;
  grpc::Status CopyChunkFrom(grpc::ServerContext* ctx, const proto::CopyChunkFromRequest* req,
                             proto::CopyChunkFromResponse* resp) override;

  // Serves one ReadChunk (ReadServer calls it); fills `response` when OK.
  grpc::Status ServeRead(const proto::ReadChunkRequest& req, grpc::ByteBuffer* response);

  // Reads served and mutations applied since the service started (for /metrics).
  ServedCounts served() const;

 private:
  // Applies one mutation locally in its serial turn; `serial` comes from the primary.
  Status ApplyInOrder(const proto::ApplyMutationRequest& m);
  // On the primary: applies `m` here and on every secondary at once; OK when all did.
  // The forwards end by `client_deadline` (the writer's own deadline) at the latest: a
  // mutation the writer gave up on must not hold back the revocation that its failure
  // report asks for.
  Status ApplyEverywhere(const proto::ApplyMutationRequest& m,
                         const std::vector<std::string>& secondaries,
                         std::chrono::system_clock::time_point client_deadline);
  // Creates an empty replica of `handle` at `version` unless one is here already (a
  // repeated grant or mutation): for a new chunk's lease and its first mutation.
  Status CreateIfMissing(uint64_t handle, uint64_t version);
  // Fetches replica `handle` at `version` from `source` into the local store.
  Result<uint64_t> FetchReplica(uint64_t handle, uint64_t version, const std::string& source);
  // "chunk 000000000000002a on 127.0.0.1:7001"
  std::string Describe(uint64_t handle) const;

  const ChunkServerServiceOptions options_;
  ChunkStore* const store_;
  PushBuffer* const buffer_;
  LeaseTable* const leases_;
  Heartbeater* const heartbeater_;
  MutationOrder order_;

  // The other chunkservers, for forwarding pushes and mutations and fetching replicas.
  StubCache<proto::ChunkServerService> peers_;

  // For served(); relaxed atomics, counted only on success.
  std::atomic<uint64_t> reads_{0}, read_bytes_{0}, mutations_{0}, mutation_bytes_{0};
};

// "000000000000002a": how handles appear in messages and file names.
std::string HandleName(uint64_t handle);

// ChunkServerService.PushData with the messages as gRPC received them, for
// ChunkServerServiceImpl::ReceivePush; registered on the same server beside it.
class PushDataService final : public grpc::Service {
 public:
  // `impl` must outlive the service.
  explicit PushDataService(ChunkServerServiceImpl* impl);
};

}  // namespace gfs::chunkserver
