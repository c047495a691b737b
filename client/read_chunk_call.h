// ChunkServerService.ReadChunk with the reply's bytes left in gRPC's receive buffers,
// to be copied once, straight to where the reader wants them
// (common/read_chunk_wire.h says why).
#pragma once

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include <cstddef>
#include <memory>

#include "common/read_chunk_wire.h"
#include "gfs/status.h"
#include "protos/chunkserver.pb.h"

namespace gfs::client {

// Calls ReadChunk(`request`) on `channel`. Blocks until the call ends (its deadline is
// `ctx`'s). Returns the RPC's error as a Status; Internal if the reply does not parse.
Result<ReceivedReadChunkReply> CallReadChunk(const std::shared_ptr<grpc::Channel>& channel,
                                             grpc::ClientContext* ctx,
                                             const proto::ReadChunkRequest& request);

}  // namespace gfs::client
