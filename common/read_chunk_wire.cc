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

Result<DecodedReadChunkReply> DecodeReadChunkReply(grpc::ByteBuffer* buffer, char* out,
                                                   size_t capacity) {
  grpc::ProtoBufferReader reader(buffer);
  google::protobuf::io::CodedInputStream in(&reader);
  DecodedReadChunkReply decoded;
  while (const uint32_t tag = in.ReadTag()) {
    const int field = WireFormatLite::GetTagFieldNumber(tag);
    const WireFormatLite::WireType type = WireFormatLite::GetTagWireType(tag);
    if (field == kDataField && type == WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      uint32_t size = 0;
      if (!in.ReadVarint32(&size)) break;
      if (size > capacity) {
        return Status::Internal("the replica returned " + std::to_string(size) +
                                " bytes for a read of " + std::to_string(capacity));
      }
      if (!in.ReadRaw(out, static_cast<int>(size))) break;
      decoded.data_bytes = size;
    } else if (field == kChunkLengthField && type == WireFormatLite::WIRETYPE_VARINT) {
      if (!in.ReadVarint64(&decoded.chunk_length)) break;
    } else if (!WireFormatLite::SkipField(&in, tag)) {
      break;
    }
  }
  if (!in.ConsumedEntireMessage() || !reader.status().ok()) {
    return Status::Internal("the replica's read reply does not parse");
  }
  return decoded;
}

}  // namespace gfs
