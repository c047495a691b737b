#include "common/read_chunk_wire.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>
#include <grpcpp/support/proto_buffer_reader.h>
#include <grpcpp/support/slice.h>

#include <string>

namespace gfs {
namespace {

using google::protobuf::internal::WireFormatLite;
using google::protobuf::io::CodedOutputStream;

// Field numbers of ReadChunkResponse.
constexpr int kDataField = 1;
constexpr int kChunkLengthField = 2;

// A tag and a varint: at most 5 + 10 bytes.
constexpr size_t kMaxPrefixBytes = 16;

grpc::Slice TagAndVarint(int field, WireFormatLite::WireType type, uint64_t value) {
  uint8_t bytes[kMaxPrefixBytes];
  uint8_t* end = CodedOutputStream::WriteTagToArray(WireFormatLite::MakeTag(field, type), bytes);
  end = CodedOutputStream::WriteVarint64ToArray(value, end);
  return grpc::Slice(bytes, static_cast<size_t>(end - bytes));
}

void DeleteBuffer(void* buffer) { delete[] static_cast<char*>(buffer); }

}  // namespace

grpc::ByteBuffer EncodeReadChunkReply(ReadChunkReplyBytes reply) {
  grpc::Slice slices[3];
  size_t count = 0;
  // Proto3 leaves out empty and zero fields.
  if (reply.size > 0) {
    slices[count++] =
        TagAndVarint(kDataField, WireFormatLite::WIRETYPE_LENGTH_DELIMITED, reply.size);
    // The slice frees the buffer when gRPC is done sending it.
    char* const owner = reply.owner.release();
    slices[count++] = grpc::Slice(const_cast<char*>(reply.data), reply.size, DeleteBuffer, owner);
  }
  if (reply.chunk_length > 0) {
    slices[count++] =
        TagAndVarint(kChunkLengthField, WireFormatLite::WIRETYPE_VARINT, reply.chunk_length);
  }
  return grpc::ByteBuffer(slices, count);
}

Result<ReceivedReadChunkReply> ParseReadChunkReply(grpc::ByteBuffer buffer) {
  ReceivedReadChunkReply reply;
  bool parsed = false;
  {
    grpc::ProtoBufferReader reader(&buffer);
    google::protobuf::io::CodedInputStream in(&reader);
    while (const uint32_t tag = in.ReadTag()) {
      const int field = WireFormatLite::GetTagFieldNumber(tag);
      const WireFormatLite::WireType type = WireFormatLite::GetTagWireType(tag);
      if (field == kDataField && type == WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
        uint32_t size = 0;
        if (!in.ReadVarint32(&size)) break;
        reply.data_offset = static_cast<size_t>(in.CurrentPosition());
        reply.data_bytes = size;
        if (!in.Skip(static_cast<int>(size))) break;
      } else if (field == kChunkLengthField && type == WireFormatLite::WIRETYPE_VARINT) {
        if (!in.ReadVarint64(&reply.chunk_length)) break;
      } else if (!WireFormatLite::SkipField(&in, tag)) {
        break;
      }
    }
    parsed = in.ConsumedEntireMessage() && reader.status().ok();
  }
  if (!parsed) return Status::Internal("the replica's read reply does not parse");
  reply.buffer = std::move(buffer);
  return reply;
}

Status CopyFromByteBuffer(grpc::ByteBuffer* buffer, size_t offset, size_t n, char* out) {
  grpc::ProtoBufferReader reader(buffer);
  google::protobuf::io::CodedInputStream in(&reader);
  if (!in.Skip(static_cast<int>(offset)) || !in.ReadRaw(out, static_cast<int>(n))) {
    return Status::Internal("a read reply is shorter than its data");
  }
  return Status::OK();
}

Result<DecodedReadChunkReply> DecodeReadChunkReply(grpc::ByteBuffer* buffer, char* out,
                                                   size_t capacity) {
  GFS_ASSIGN_OR_RETURN(ReceivedReadChunkReply reply, ParseReadChunkReply(*buffer));
  if (reply.data_bytes > capacity) {
    return Status::Internal("the replica returned " + std::to_string(reply.data_bytes) +
                            " bytes for a read of " + std::to_string(capacity));
  }
  GFS_RETURN_IF_ERROR(CopyFromByteBuffer(&reply.buffer, reply.data_offset, reply.data_bytes, out));
  DecodedReadChunkReply decoded;
  decoded.data_bytes = reply.data_bytes;
  decoded.chunk_length = reply.chunk_length;
  return decoded;
}

}  // namespace gfs
