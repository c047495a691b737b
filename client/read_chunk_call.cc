#include "client/read_chunk_call.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/impl/codegen/proto_utils.h>  // SerializationTraits of the request

#include "common/grpc_status.h"
#include "common/mutex.h"

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
  Mutex mu;
  CondVar cv(&mu);
  bool done = false;
  grpc::Status status;
  stub.UnaryCall(ctx, kReadChunkMethod, grpc::StubOptions(), &request, &reply, [&](grpc::Status s) {
    MutexLock lock(&mu);
    status = std::move(s);
    done = true;
    cv.Signal();
  });
  {
    // gRPC calls back once the call ends, which its deadline bounds.
    MutexLock lock(&mu);
    while (!done) cv.Wait();
  }
  GFS_RETURN_IF_ERROR(FromGrpc(status));
  return ParseReadChunkReply(std::move(reply));
}

}  // namespace gfs::client
