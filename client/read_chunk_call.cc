#include "client/read_chunk_call.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/impl/codegen/proto_utils.h>  // SerializationTraits of the request

#include "common/grpc_status.h"
#include "common/latch.h"

namespace gfs::client {
namespace {

// The method's full name, as the generated stub spells it.
constexpr char kReadChunkMethod[] = "/gfs.proto.ChunkServerService/ReadChunk";

}  // namespace

Result<ReceivedReadChunkReply> CallReadChunk(const std::shared_ptr<grpc::Channel>& channel,
                                             grpc::ClientContext* ctx,
                                             const proto::ReadChunkRequest& request) {
  grpc::TemplatedGenericStub<proto::ReadChunkRequest, grpc::ByteBuffer> stub(channel);
  grpc::ByteBuffer reply;
  grpc::Status status;
  Latch done(1);
  stub.UnaryCall(ctx, kReadChunkMethod, grpc::StubOptions(), &request, &reply, [&](grpc::Status s) {
    status = std::move(s);
    done.CountDown();
  });
  done.Wait();  // gRPC calls back once the call ends, which its deadline bounds
  GFS_RETURN_IF_ERROR(FromGrpc(status));
  return ParseReadChunkReply(std::move(reply));
}

}  // namespace gfs::client
