#include "common/push_data_wire.h"

#include <grpcpp/impl/codegen/proto_utils.h>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <utility>
#include <vector>

#include "protos/chunkserver.pb.h"
#include "tests/test_util.h"

namespace gfs {
namespace {

std::string Pattern(size_t size) {
  std::string data(size, '\0');
  for (size_t i = 0; i < size; ++i) data[i] = static_cast<char>(i * 131 + (i >> 9));
  return data;
}

// The bytes of `slices`, joined.
std::string Joined(const std::vector<grpc::Slice>& slices) {
  std::string out;
  for (const grpc::Slice& slice : slices) {
    out.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return out;
}

// The bytes of `buffer`, flattened.
std::string Flatten(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  EXPECT_TRUE(buffer.Dump(&slices).ok());
  return Joined(slices);
}

// `bytes` as a buffer of many slices, cut at random places (gRPC hands over what it
// read from the socket, in pieces of any size).
grpc::ByteBuffer Sliced(const std::string& bytes, std::mt19937* rng) {
  std::vector<grpc::Slice> slices;
  size_t at = 0;
  while (at < bytes.size()) {
    const size_t n = std::min(bytes.size() - at, static_cast<size_t>((*rng)() % 5000 + 1));
    slices.emplace_back(bytes.data() + at, n);
    at += n;
  }
  return grpc::ByteBuffer(slices.data(), slices.size());
}

proto::PushDataRequest AsProto(const grpc::ByteBuffer& buffer) {
  proto::PushDataRequest message;
  EXPECT_TRUE(message.ParseFromString(Flatten(buffer)));
  return message;
}

class PushDataWireTest : public testing::GfsTest {};

PushHeader Header() {
  PushHeader header;
  header.data_id = 0xfeedfacecafebeefull;
  header.length = 3 << 20;
  header.chain = {"127.0.0.1:7001", "127.0.0.1:7002"};
  return header;
}

TEST_F(PushDataWireTest, EncodedMessagesAreProtobufMessages) {
  const PushHeader header = Header();
  const std::string data = Pattern(300000);
  proto::PushDataRequest first = AsProto(EncodePushMessage(&header, data));
  EXPECT_EQ(first.data_id(), header.data_id);
  EXPECT_EQ(first.length(), header.length);
  ASSERT_EQ(first.chain_size(), 2);
  EXPECT_EQ(first.chain(1), "127.0.0.1:7002");
  EXPECT_EQ(first.data(), data);

  proto::PushDataRequest later = AsProto(EncodePushMessage(nullptr, "piece"));
  EXPECT_EQ(later.data_id(), 0u);
  EXPECT_EQ(later.chain_size(), 0);
  EXPECT_EQ(later.data(), "piece");
}

TEST_F(PushDataWireTest, ProtobufMessagesParseWithoutCopyingTheData) {
  std::mt19937 rng(seed());
  proto::PushDataRequest message;
  message.set_data_id(42);
  message.set_length(1 << 20);
  message.add_chain("a:1");
  message.set_data(Pattern(100001));
  Result<ReceivedPushMessage> parsed = ParsePushMessage(Sliced(message.SerializeAsString(), &rng));
  ASSERT_OK(parsed);
  EXPECT_EQ(parsed->header.data_id, 42u);
  EXPECT_EQ(parsed->header.length, 1u << 20);
  EXPECT_EQ(parsed->header.chain, std::vector<std::string>{"a:1"});
  EXPECT_EQ(parsed->data_bytes, 100001u);
  Result<std::vector<grpc::Slice>> data = PushMessageData(*parsed);
  ASSERT_OK(data);
  EXPECT_EQ(Joined(*data), message.data());
  // The data is the received buffer's memory, not a copy of it (but for pieces of a
  // few bytes, which gRPC keeps inline in the slice itself).
  std::vector<grpc::Slice> received;
  ASSERT_TRUE(parsed->buffer.Dump(&received).ok());
  for (const grpc::Slice& piece : *data) {
    if (piece.size() < 64) continue;
    bool shared = false;
    for (const grpc::Slice& slice : received) {
      shared = shared || (piece.begin() >= slice.begin() && piece.end() <= slice.end());
    }
    EXPECT_TRUE(shared) << "a piece of " << piece.size() << " bytes was copied";
  }

  // Data only, and nothing at all (a header-less, data-less message parses as empty).
  proto::PushDataRequest piece;
  piece.set_data("xyz");
  parsed = ParsePushMessage(Sliced(piece.SerializeAsString(), &rng));
  ASSERT_OK(parsed);
  EXPECT_EQ(parsed->header.data_id, 0u);
  EXPECT_EQ(Joined(*PushMessageData(*parsed)), "xyz");
  parsed = ParsePushMessage(grpc::ByteBuffer(nullptr, 0));
  ASSERT_OK(parsed);
  EXPECT_EQ(parsed->data_bytes, 0u);
}

TEST_F(PushDataWireTest, ForwardRewritesTheHeaderAndSharesTheData) {
  std::mt19937 rng(seed());
  const PushHeader header = Header();
  const std::string data = Pattern(1 << 20);
  Result<ReceivedPushMessage> received =
      ParsePushMessage(Sliced(Flatten(EncodePushMessage(&header, data)), &rng));
  ASSERT_OK(received);

  PushHeader down = header;
  down.chain.erase(down.chain.begin());
  Result<grpc::ByteBuffer> forward = ForwardPushMessage(*received, &down);
  ASSERT_OK(forward);
  proto::PushDataRequest sent = AsProto(*forward);
  EXPECT_EQ(sent.data_id(), header.data_id);
  EXPECT_EQ(sent.length(), header.length);
  ASSERT_EQ(sent.chain_size(), 1);
  EXPECT_EQ(sent.chain(0), "127.0.0.1:7002");
  EXPECT_EQ(sent.data(), data);
  // The data's slices point into the received ones, not at copies (slices of a few
  // bytes are kept inline by gRPC and so copied: only larger ones count).
  std::vector<grpc::Slice> in, out;
  ASSERT_TRUE(received->buffer.Dump(&in).ok());
  ASSERT_TRUE(forward->Dump(&out).ok());
  size_t large = 0, shared = 0;
  for (const grpc::Slice& slice : out) {
    if (slice.size() <= 64) continue;
    ++large;
    for (const grpc::Slice& from : in) {
      if (slice.begin() >= from.begin() && slice.end() <= from.end()) {
        ++shared;
        break;
      }
    }
  }
  EXPECT_GT(large, 0u);
  EXPECT_EQ(shared, large) << "forwarded data should point into the received buffer";

  // Without a header the message goes on as it came.
  Result<grpc::ByteBuffer> same = ForwardPushMessage(*received, nullptr);
  ASSERT_OK(same);
  EXPECT_EQ(Flatten(*same), Flatten(received->buffer));
}

TEST_F(PushDataWireTest, MalformedMessagesAreRefused) {
  std::string truncated = Flatten(EncodePushMessage(nullptr, Pattern(1000)));
  truncated.resize(truncated.size() - 10);  // the data is shorter than its length says
  proto::PushDataRequest one, two;
  one.set_data("first");
  two.set_data("second");
  const std::string doubled = one.SerializeAsString() + two.SerializeAsString();
  // Past the truncated and the doubled: a data length past INT_MAX, one past 2^32 that
  // would read as 5 if cut to 32 bits, a group, field number 0.
  for (const std::string& bytes : {truncated, doubled, std::string("\x22\xff\xff\xff\xff\x0f"),
                                   std::string("\x22\x85\x80\x80\x80\x10xxxxx"),
                                   std::string("\x0b garbage"), std::string("\x02\x01x")}) {
    std::vector<grpc::Slice> slices{grpc::Slice(bytes.data(), bytes.size())};
    Result<ReceivedPushMessage> parsed = ParsePushMessage(grpc::ByteBuffer(slices.data(), 1));
    ASSERT_CODE(parsed, StatusCode::kInvalidArgument);
    EXPECT_NE(parsed.status().message().find("malformed push message"), std::string::npos)
        << parsed.status().ToString();
  }
}

}  // namespace
}  // namespace gfs
