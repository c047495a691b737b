// PushDataRequest (protos/chunkserver.proto) on the wire, encoded and decoded by hand so
// that a push's bytes are copied at most once per hop: the client copies each piece once
// into the message it sends (not into a protobuf message and then again into gRPC's
// buffer), and a chunkserver passes the message it received on down the chain as it is
// (gRPC's buffers are shared, not copied) and keeps the piece in its push buffer as
// gRPC's slices, until it writes them to disk. Measured before: protobuf's parse and
// serialize copies were about 9% of all CPU of a 1 GiB put with 3 replicas, and the
// client's two copies about 5%; then the copy into the push buffer about 7% of a
// chunkserver's. The encoding is the standard protobuf one, so the generated stub and
// service read and write it too.
#pragma once

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/sync_stream.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gfs/status.h"

namespace gfs {

// The method's full name, as the generated stub spells it.
inline constexpr char kPushDataMethod[] = "/gfs.proto.ChunkServerService/PushData";

// The header fields of a push's first message.
struct PushHeader {
  uint64_t data_id = 0;
  uint64_t length = 0;
  std::vector<std::string> chain;  // the replicas after the receiver, in push order
};

// One PushDataRequest: `header`'s fields unless it is null, then `data`, copied once into
// a buffer of the message's own.
grpc::ByteBuffer EncodePushMessage(const PushHeader* header, std::string_view data);

// A PushDataRequest as received: its header fields parsed, its data left in `buffer`.
struct ReceivedPushMessage {
  grpc::ByteBuffer buffer;
  PushHeader header;       // zeros and empty when the message carries none
  size_t data_offset = 0;  // where the data starts in `buffer`
  size_t data_bytes = 0;
};

// Parses `buffer` without copying its data. InvalidArgument if it does not parse.
Result<ReceivedPushMessage> ParsePushMessage(grpc::ByteBuffer buffer);

// The message that carries `message`'s data on to the next replica: the same buffer
// when `header` is null, else `header`'s fields followed by the data, whose bytes are
// shared with `message` (no copy).
Result<grpc::ByteBuffer> ForwardPushMessage(const ReceivedPushMessage& message,
                                            const PushHeader* header);

// `message`'s data as sub-slices of its buffer, sharing their memory (no copy).
// InvalidArgument if the buffer holds less than the data's length.
Result<std::vector<grpc::Slice>> PushMessageData(const ReceivedPushMessage& message);

// Opens a PushData stream on `channel` whose messages are sent as they are (encode them
// with EncodePushMessage or ForwardPushMessage); the empty reply lands in `response`.
std::unique_ptr<grpc::ClientWriter<grpc::ByteBuffer>> OpenPushStream(grpc::Channel* channel,
                                                                     grpc::ClientContext* ctx,
                                                                     grpc::ByteBuffer* response);

}  // namespace gfs
