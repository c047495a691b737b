#include "common/push_data_wire.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>
#include <grpcpp/impl/codegen/rpc_method.h>
#include <grpcpp/support/proto_buffer_reader.h>
#include <grpcpp/support/slice.h>

#include "protos/chunkserver.pb.h"

namespace gfs {
namespace {

using google::protobuf::internal::WireFormatLite;
using google::protobuf::io::CodedInputStream;
using google::protobuf::io::CodedOutputStream;

// Field numbers of PushDataRequest.
constexpr int kDataIdField = 1;
constexpr int kLengthField = 2;
constexpr int kChainField = 3;
constexpr int kDataField = 4;

// The header fields, serialized (the data field, number 4, follows them in field order).
std::string EncodeHeader(const PushHeader& header) {
  proto::PushDataRequest req;
  req.set_data_id(header.data_id);
  req.set_length(header.length);
  for (const std::string& replica : header.chain) req.add_chain(replica);
  return req.SerializeAsString();
}

// The tag and length that start a data field of `n` bytes.
grpc::Slice DataPrefix(size_t n) {
  uint8_t bytes[16];
  uint8_t* end = CodedOutputStream::WriteTagToArray(
      WireFormatLite::MakeTag(kDataField, WireFormatLite::WIRETYPE_LENGTH_DELIMITED), bytes);
  end = CodedOutputStream::WriteVarint64ToArray(n, end);
  return grpc::Slice(bytes, static_cast<size_t>(end - bytes));
}

Status Malformed(const std::string& what) {
  return Status::InvalidArgument("malformed push message: " + what);
}

}  // namespace

grpc::ByteBuffer EncodePushMessage(const PushHeader* header, std::string_view data) {
  std::vector<grpc::Slice> slices;
  if (header != nullptr) slices.emplace_back(EncodeHeader(*header));
  if (!data.empty()) {
    slices.push_back(DataPrefix(data.size()));
    slices.emplace_back(data.data(), data.size());  // the one copy of the data
  }
  return grpc::ByteBuffer(slices.data(), slices.size());
}

Result<ReceivedPushMessage> ParsePushMessage(grpc::ByteBuffer buffer) {
  ReceivedPushMessage message;
  std::string error;
  {
    grpc::ProtoBufferReader reader(&buffer);
    CodedInputStream in(&reader);
    bool seen_data = false;
    while (error.empty()) {
      const uint32_t tag = in.ReadTag();
      if (tag == 0) break;
      const int field = WireFormatLite::GetTagFieldNumber(tag);
      const WireFormatLite::WireType type = WireFormatLite::GetTagWireType(tag);
      if (field == 0) {
        error = "field number 0";
      } else if (field == kDataIdField && type == WireFormatLite::WIRETYPE_FIXED64) {
        if (!in.ReadLittleEndian64(&message.header.data_id)) error = "data_id";
      } else if (field == kLengthField && type == WireFormatLite::WIRETYPE_VARINT) {
        if (!in.ReadVarint64(&message.header.length)) error = "length";
      } else if (field == kChainField && type == WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
        std::string replica;
        if (!WireFormatLite::ReadString(&in, &replica)) error = "chain";
        message.header.chain.push_back(std::move(replica));
      } else if (field == kDataField && type == WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
        int size = 0;
        // Protobuf would keep the last of two data fields; nothing sends two.
        if (seen_data) error = "two data fields";
        // As protobuf reads it: a length past INT_MAX is an error, never truncated.
        if (error.empty() && !in.ReadVarintSizeAsInt(&size)) error = "data length";
        if (error.empty()) {
          message.data_offset = static_cast<size_t>(in.CurrentPosition());
          message.data_bytes = static_cast<size_t>(size);
          if (!in.Skip(size)) error = "data shorter than its length";
        }
        seen_data = true;
      } else if (!WireFormatLite::SkipField(&in, tag)) {
        error = "field " + std::to_string(field);
      }
    }
    if (error.empty() && (!in.ConsumedEntireMessage() || !reader.status().ok())) {
      error = "does not end where it should";
    }
  }
  if (!error.empty()) return Malformed(error);
  message.buffer.Swap(&buffer);
  return message;
}

Result<grpc::ByteBuffer> ForwardPushMessage(const ReceivedPushMessage& message,
                                            const PushHeader* header) {
  if (header == nullptr) return message.buffer;  // shares the slices
  std::vector<grpc::Slice> slices;
  slices.emplace_back(EncodeHeader(*header));
  if (message.data_bytes > 0) {
    slices.push_back(DataPrefix(message.data_bytes));
    GFS_ASSIGN_OR_RETURN(std::vector<grpc::Slice> data, PushMessageData(message));
    for (grpc::Slice& slice : data) slices.push_back(std::move(slice));
  }
  return grpc::ByteBuffer(slices.data(), slices.size());
}

Result<std::vector<grpc::Slice>> PushMessageData(const ReceivedPushMessage& message) {
  std::vector<grpc::Slice> data;
  if (message.data_bytes == 0) return data;
  std::vector<grpc::Slice> received;
  if (!message.buffer.Dump(&received).ok()) return Malformed("unreadable buffer");
  // The data's range of the received slices, as sub-slices sharing their memory.
  const size_t begin = message.data_offset;
  const size_t end = message.data_offset + message.data_bytes;
  size_t at = 0;
  for (const grpc::Slice& slice : received) {
    const size_t from = std::max(begin, at);
    const size_t to = std::min(end, at + slice.size());
    if (from < to) data.push_back(slice.sub(from - at, to - at));
    at += slice.size();
  }
  if (at < end) return Malformed("data shorter than its length");
  return data;
}

std::unique_ptr<grpc::ClientWriter<grpc::ByteBuffer>> OpenPushStream(grpc::Channel* channel,
                                                                     grpc::ClientContext* ctx,
                                                                     grpc::ByteBuffer* response) {
  // What the generated stub's PushData does, with ByteBuffer for the message types.
  const grpc::internal::RpcMethod method(kPushDataMethod,
                                         grpc::internal::RpcMethod::CLIENT_STREAMING);
  return std::unique_ptr<grpc::ClientWriter<grpc::ByteBuffer>>(
      grpc::internal::ClientWriterFactory<grpc::ByteBuffer>::Create(channel, method, ctx,
                                                                    response));
}

}  // namespace gfs
