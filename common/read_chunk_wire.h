// ReadChunkResponse (protos/chunkserver.proto) on the wire, encoded and decoded by hand
// so that a chunk's bytes are never copied through a protobuf message: the chunkserver
// hands its read buffer to gRPC as is, and the client copies the bytes from gRPC's
// receive buffers straight to their destination. Reads are where bytes outnumber
// everything else; on a 2-core machine every extra pass over them costs throughput
// (measured: the two message copies, and the zero-filled buffers they went into, were
// about a fifth of the CPU of a 1 GiB read). The encoding is the standard protobuf one,
// so the generated stub reads it too.
#pragma once

#include <grpcpp/support/byte_buffer.h>

#include <cstddef>
#include <cstdint>
#include <memory>

#include "gfs/status.h"

namespace gfs {

// A ReadChunkResponse: `size` bytes at `data`, which `owner` keeps alive.
struct ReadChunkReplyBytes {
  std::unique_ptr<char[]> owner;
  const char* data = nullptr;
  size_t size = 0;
  uint64_t chunk_length = 0;
};

// Encodes `reply` into a ByteBuffer that takes over `reply.owner` (no copy of the data).
grpc::ByteBuffer EncodeReadChunkReply(ReadChunkReplyBytes reply);

// A ReadChunkResponse as received: its data stays in gRPC's buffers until copied out.
struct ReceivedReadChunkReply {
  grpc::ByteBuffer buffer;    // the serialized reply
  size_t data_offset = 0;     // where the data's bytes start in `buffer`
  size_t data_bytes = 0;      // how many there are
  uint64_t chunk_length = 0;  // the chunk's data length on the replica
};

// Parses the fields of the ReadChunkResponse in `buffer` without copying its data.
// Internal if it does not parse.
Result<ReceivedReadChunkReply> ParseReadChunkReply(grpc::ByteBuffer buffer);

// Copies the `n` bytes that start `offset` bytes into `buffer` to `out`. Internal if
// `buffer` is shorter.
Status CopyFromByteBuffer(grpc::ByteBuffer* buffer, size_t offset, size_t n, char* out);

struct DecodedReadChunkReply {
  size_t data_bytes = 0;      // bytes copied into the caller's memory
  uint64_t chunk_length = 0;  // the chunk's data length on the replica
};

// Decodes a ReadChunkResponse held in `buffer`, copying its data into `out`, which has
// room for `capacity` bytes. Internal if it does not parse or the data does not fit.
Result<DecodedReadChunkReply> DecodeReadChunkReply(grpc::ByteBuffer* buffer, char* out,
                                                   size_t capacity);

}  // namespace gfs
