#include "master/chunkserver_client.h"

#include <grpcpp/grpcpp.h>

#include "common/grpc_status.h"
#include "common/stub_cache.h"
#include "protos/chunkserver.grpc.pb.h"

namespace gfs::master {
namespace {

class GrpcChunkServerClient final : public ChunkServerClient {
 public:
  explicit GrpcChunkServerClient(std::chrono::milliseconds timeout) : timeout_(timeout) {}

  Status UpdateChunkVersion(const std::string& address, uint64_t handle, uint64_t expected,
                            uint64_t new_version, uint64_t create_incarnation) override {
    proto::UpdateChunkVersionRequest req;
    req.set_handle(handle);
    req.set_expected_version(expected);
    req.set_new_version(new_version);
    req.set_create_incarnation(create_incarnation);
    proto::UpdateChunkVersionResponse resp;
    return Call(address, "update chunk version", [&](Stub* stub, grpc::ClientContext* ctx) {
      return stub->UpdateChunkVersion(ctx, req, &resp);
    });
  }

  Status GrantLease(const std::string& address, uint64_t handle, uint64_t version,
                    uint64_t lease_ms, uint64_t chunk_size,
                    const std::vector<std::string>& secondaries, bool create) override {
    proto::GrantLeaseRequest req;
    req.set_handle(handle);
    req.set_version(version);
    req.set_lease_ms(lease_ms);
    req.set_chunk_size(chunk_size);
    for (const std::string& s : secondaries) req.add_secondaries(s);
    req.set_create(create);
    proto::GrantLeaseResponse resp;
    return Call(address, "grant lease", [&](Stub* stub, grpc::ClientContext* ctx) {
      return stub->GrantLease(ctx, req, &resp);
    });
  }

  Status RevokeLease(const std::string& address, uint64_t handle) override {
    proto::RevokeLeaseRequest req;
    req.set_handle(handle);
    proto::RevokeLeaseResponse resp;
    return Call(address, "revoke lease", [&](Stub* stub, grpc::ClientContext* ctx) {
      return stub->RevokeLease(ctx, req, &resp);
    });
  }

  Status CloneChunk(const std::string& address, uint64_t src, uint64_t dst,
                    uint64_t version) override {
    proto::CloneChunkRequest req;
    req.set_src(src);
    req.set_dst(dst);
    req.set_version(version);
    proto::CloneChunkResponse resp;
    return Call(address, "clone chunk", [&](Stub* stub, grpc::ClientContext* ctx) {
      return stub->CloneChunk(ctx, req, &resp);
    });
  }

  Status CopyChunkFrom(const std::string& address, uint64_t handle, uint64_t version,
                       const std::string& source) override {
    proto::CopyChunkFromRequest req;
    req.set_handle(handle);
    req.set_version(version);
    req.set_source(source);
    proto::CopyChunkFromResponse resp;
    return Call(address, "copy chunk", [&](Stub* stub, grpc::ClientContext* ctx) {
      return stub->CopyChunkFrom(ctx, req, &resp);
    });
  }

 private:
  using Stub = proto::ChunkServerService::Stub;

  template <typename Fn>
  Status Call(const std::string& address, const char* what, Fn fn) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + timeout_);
    Status s = FromGrpc(fn(stubs_.Get(address), &ctx));
    return s.Prepend(std::string(what) + " on " + address);
  }

  const std::chrono::milliseconds timeout_;
  StubCache<proto::ChunkServerService> stubs_;
};

}  // namespace

std::unique_ptr<ChunkServerClient> NewGrpcChunkServerClient(std::chrono::milliseconds timeout) {
  return std::make_unique<GrpcChunkServerClient>(timeout);
}

}  // namespace gfs::master
