// ChunkServerService.ReadChunk with the reply's bytes copied straight from gRPC's
// receive buffers into the caller's memory (common/read_chunk_wire.h says why).
#pragma once

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include <cstddef>
#include <memory>

#include "common/read_chunk_wire.h"
#include "gfs/status.h"
#include "protos/chunkserver.pb.h"

namespace gfs::client {

// Calls ReadChunk(`request`) on `channel` and copies the reply's data into `out`, which
// has room for `capacity` bytes. Blocks until the call ends (its deadline is `ctx`'s).
// Returns the RPC's error as a Status; Internal if the reply does not parse or holds
// more than `capacity` bytes.
Result<DecodedReadChunkReply> CallReadChunk(const std::shared_ptr<grpc::Channel>& channel,
                                            grpc::ClientContext* ctx,
                                            const proto::ReadChunkRequest& request, char* out,
                                            size_t capacity);

}  // namespace gfs::client
