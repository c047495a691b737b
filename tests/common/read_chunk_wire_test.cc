#include "common/read_chunk_wire.h"

#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/support/proto_buffer_reader.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "protos/chunkserver.pb.h"
#include "tests/test_util.h"

namespace gfs {
namespace {

ReadChunkReplyBytes MakeReply(const std::string& data, uint64_t chunk_length) {
  ReadChunkReplyBytes reply;
  // Bytes at an offset inside their buffer, as a chunk read hands them over.
  reply.owner.reset(new char[data.size() + 7]);
  memcpy(reply.owner.get() + 7, data.data(), data.size());
  reply.data = reply.owner.get() + 7;
  reply.size = data.size();
  reply.chunk_length = chunk_length;
  return reply;
}

grpc::ByteBuffer Serialize(const proto::ReadChunkResponse& message) {
  grpc::ByteBuffer buffer;
  bool own = false;
  EXPECT_TRUE(
      grpc::SerializationTraits<proto::ReadChunkResponse>::Serialize(message, &buffer, &own).ok());
  return buffer;
}

std::string Pattern(size_t size) {
  std::string data(size, '\0');
  for (size_t i = 0; i < size; ++i) data[i] = static_cast<char>(i * 131 + (i >> 9));
  return data;
}

TEST(ReadChunkWireTest, EncodedReplyParsesAsTheProtobufMessage) {
  for (size_t size :
       {size_t{0}, size_t{1}, size_t{127}, size_t{128}, size_t{70000}, size_t{8} << 20}) {
    const std::string data = Pattern(size);
    grpc::ByteBuffer buffer = EncodeReadChunkReply(MakeReply(data, 5 + size * 3));
    proto::ReadChunkResponse parsed;
    grpc::ProtoBufferReader reader(&buffer);
    ASSERT_TRUE(parsed.ParseFromZeroCopyStream(&reader)) << size;
    EXPECT_EQ(parsed.data(), data) << size;
    EXPECT_EQ(parsed.chunk_length(), 5 + size * 3) << size;
  }
}

TEST(ReadChunkWireTest, DecodesTheProtobufEncodingIntoTheCallersBuffer) {
  for (size_t size : {size_t{0}, size_t{1}, size_t{300}, size_t{1} << 20}) {
    proto::ReadChunkResponse message;
    message.set_data(Pattern(size));
    message.set_chunk_length(size + 1);
    grpc::ByteBuffer buffer = Serialize(message);
    std::vector<char> out(size + 10, 'x');
    Result<DecodedReadChunkReply> decoded = DecodeReadChunkReply(&buffer, out.data(), size + 10);
    ASSERT_OK(decoded.status());
    EXPECT_EQ(decoded->data_bytes, size);
    EXPECT_EQ(decoded->chunk_length, size + 1);
    EXPECT_EQ(std::string(out.data(), size), message.data());
    EXPECT_EQ(out[size], 'x') << "wrote past the data";
  }
}

TEST(ReadChunkWireTest, RoundTripsThroughEncodeAndDecode) {
  const std::string data = Pattern(3 << 20);
  grpc::ByteBuffer buffer = EncodeReadChunkReply(MakeReply(data, 64 << 20));
  std::string out(data.size(), '\0');
  Result<DecodedReadChunkReply> decoded = DecodeReadChunkReply(&buffer, out.data(), out.size());
  ASSERT_OK(decoded.status());
  EXPECT_EQ(decoded->data_bytes, data.size());
  EXPECT_EQ(decoded->chunk_length, uint64_t{64} << 20);
  EXPECT_EQ(out, data);
}

TEST(ReadChunkWireTest, ParsesWithoutCopyingAndCopiesAnyRangeOut) {
  // Several slices, as gRPC receives a large reply: the data spans slice boundaries.
  proto::ReadChunkResponse message;
  message.set_data(Pattern(200000));
  message.set_chunk_length(1234);
  const std::string wire = message.SerializeAsString();
  std::vector<grpc::Slice> slices;
  for (size_t at = 0; at < wire.size(); at += 16384) {
    slices.emplace_back(wire.data() + at, std::min<size_t>(16384, wire.size() - at));
  }
  Result<ReceivedReadChunkReply> reply =
      ParseReadChunkReply(grpc::ByteBuffer(slices.data(), slices.size()));
  ASSERT_OK(reply.status());
  EXPECT_EQ(reply->data_bytes, 200000u);
  EXPECT_EQ(reply->chunk_length, 1234u);
  for (const auto& [skip, n] : std::vector<std::pair<size_t, size_t>>{
           {0, 200000}, {0, 1}, {16380, 10}, {199999, 1}, {12345, 100000}}) {
    std::string out(n, '\0');
    ASSERT_OK(CopyFromByteBuffer(&reply->buffer, reply->data_offset + skip, n, out.data()));
    EXPECT_EQ(out, message.data().substr(skip, n)) << skip << "+" << n;
  }
  // Past the end of the whole reply (the chunk_length field follows the data).
  std::string out(16, '\0');
  ASSERT_CODE(CopyFromByteBuffer(&reply->buffer, reply->data_offset + 199999, 16, out.data()),
              StatusCode::kInternal);
}

TEST(ReadChunkWireTest, RefusesDataLargerThanTheBuffer) {
  grpc::ByteBuffer buffer = EncodeReadChunkReply(MakeReply(Pattern(100), 100));
  std::vector<char> out(99);
  ASSERT_CODE(DecodeReadChunkReply(&buffer, out.data(), out.size()).status(),
              StatusCode::kInternal);
}

TEST(ReadChunkWireTest, RefusesATruncatedReply) {
  proto::ReadChunkResponse message;
  message.set_data(Pattern(1000));
  std::string wire = message.SerializeAsString();
  wire.resize(wire.size() - 1);
  grpc::Slice slice(wire);
  grpc::ByteBuffer buffer(&slice, 1);
  std::vector<char> out(1000);
  ASSERT_CODE(DecodeReadChunkReply(&buffer, out.data(), out.size()).status(),
              StatusCode::kInternal);
}

TEST(ReadChunkWireTest, SkipsUnknownFields) {
  // Field 9, varint 300, then the known fields: a newer chunkserver may add fields.
  proto::ReadChunkResponse message;
  message.set_data("abc");
  message.set_chunk_length(3);
  const std::string wire = std::string("\x48\xac\x02", 3) + message.SerializeAsString();
  grpc::Slice slice(wire);
  grpc::ByteBuffer buffer(&slice, 1);
  char out[3];
  Result<DecodedReadChunkReply> decoded = DecodeReadChunkReply(&buffer, out, sizeof(out));
  ASSERT_OK(decoded.status());
  EXPECT_EQ(std::string(out, 3), "abc");
  EXPECT_EQ(decoded->chunk_length, 3u);
}

}  // namespace
}  // namespace gfs
