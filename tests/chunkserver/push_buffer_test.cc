#include "chunkserver/push_buffer.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "common/clock.h"
#include "tests/test_util.h"

namespace gfs::chunkserver {
namespace {

using std::chrono::milliseconds;

// `bytes` as a piece of one slice (a copy).
SliceList Piece(std::string_view bytes) {
  SliceList piece;
  piece.emplace_back(bytes.data(), bytes.size());
  return piece;
}

// A piece's bytes, joined.
std::string Bytes(const PushedData& data, size_t piece) {
  std::string out;
  for (std::string_view view : data.PieceViews(piece)) out.append(view);
  return out;
}

class PushBufferTest : public ::testing::Test {
 protected:
  ManualClock clock_;
  PushBuffer buffer_{1000, milliseconds(5000), &clock_};
};

TEST_F(PushBufferTest, ReserveAppendCompleteGet) {
  ASSERT_OK(buffer_.Reserve(7, 10));
  EXPECT_EQ(buffer_.used_bytes(), 10u);
  EXPECT_EQ(buffer_.entries(), 1u);
  ASSERT_OK(buffer_.Append(7, Piece("hello")));
  ASSERT_OK(buffer_.Append(7, Piece("")));
  ASSERT_OK(buffer_.Append(7, Piece("world")));
  ASSERT_OK(buffer_.Complete(7));
  Result<std::shared_ptr<const PushedData>> got = buffer_.Get(7);
  ASSERT_OK(got);
  EXPECT_EQ((*got)->Joined(), "helloworld");
  EXPECT_EQ((*got)->size, 10u);
  // Get does not consume; the bytes outlive Remove for whoever holds them.
  ASSERT_OK(buffer_.Get(7));
  buffer_.Remove(7);
  EXPECT_EQ((*got)->Joined(), "helloworld");
  ASSERT_CODE(buffer_.Get(7), StatusCode::kNotFound);
}

TEST_F(PushBufferTest, EmptyEntry) {
  ASSERT_OK(buffer_.Reserve(1, 0));
  ASSERT_OK(buffer_.Complete(1));
  Result<std::shared_ptr<const PushedData>> got = buffer_.Get(1);
  ASSERT_OK(got);
  EXPECT_EQ((*got)->size, 0u);
  EXPECT_TRUE((*got)->pieces.empty());
}

// Large pieces are kept as they came, their slices shared, not copied; small ones are
// copied, each into one slice joined to the piece before them.
TEST(PushBufferPiecesTest, LargePiecesAreMovedInSmallOnesJoined) {
  ManualClock clock;
  PushBuffer buffer(10 << 20, milliseconds(5000), &clock);
  const size_t big = PushBuffer::kMinPieceBytes;
  const std::string a(big, 'a'), b(big + 1, 'b');
  const uint64_t total = 3 + big + 1 + big + 1;
  ASSERT_OK(buffer.Reserve(1, total));
  ASSERT_OK(buffer.Append(1, Piece("xyz")));  // the first piece, however small
  ASSERT_OK(buffer.Append(1, Piece(a)));
  ASSERT_OK(buffer.Append(1, Piece("c")));  // joined to a's piece
  // The last piece in two slices, one of them small: the piece counts as a whole.
  SliceList last = Piece(std::string_view(b).substr(0, big));
  last.emplace_back(b.data() + big, 1);
  const uint8_t* last_bytes = last[0].begin();
  ASSERT_OK(buffer.Append(1, std::move(last)));
  ASSERT_OK(buffer.Complete(1));
  Result<std::shared_ptr<const PushedData>> got = buffer.Get(1);
  ASSERT_OK(got);
  const PushedData& data = **got;
  ASSERT_EQ(data.pieces.size(), 3u);
  EXPECT_EQ(Bytes(data, 0), "xyz");
  EXPECT_EQ(Bytes(data, 1), a + "c");
  EXPECT_EQ(data.pieces[1].size(), 2u) << "a's slice and one slice for c";
  EXPECT_EQ(Bytes(data, 2), b);
  EXPECT_EQ(data.pieces[2][0].begin(), last_bytes) << "a large piece was copied, not moved in";
  EXPECT_EQ(data.size, total);
  EXPECT_EQ(data.Joined(), "xyz" + a + "c" + b);
}

TEST_F(PushBufferTest, CapacityExceeded) {
  ASSERT_OK(buffer_.Reserve(1, 600));
  ASSERT_CODE(buffer_.Reserve(2, 401), StatusCode::kResourceExhausted);
  ASSERT_OK(buffer_.Reserve(2, 400));
  EXPECT_EQ(buffer_.used_bytes(), 1000u);
  ASSERT_CODE(buffer_.Reserve(3, 1), StatusCode::kResourceExhausted);
  // Larger than the whole buffer, and a length that would overflow a naive sum.
  ASSERT_CODE(buffer_.Reserve(4, 1001), StatusCode::kResourceExhausted);
  ASSERT_CODE(buffer_.Reserve(5, ~0ull), StatusCode::kResourceExhausted);
  EXPECT_EQ(buffer_.entries(), 2u);
}

TEST_F(PushBufferTest, IncompleteEntryNotGettable) {
  ASSERT_OK(buffer_.Reserve(1, 4));
  ASSERT_CODE(buffer_.Get(1), StatusCode::kNotFound);
  ASSERT_OK(buffer_.Append(1, Piece("abcd")));
  ASSERT_CODE(buffer_.Get(1), StatusCode::kNotFound);
  ASSERT_OK(buffer_.Complete(1));
  ASSERT_OK(buffer_.Get(1));
}

TEST_F(PushBufferTest, AppendPastReservedRefused) {
  ASSERT_OK(buffer_.Reserve(1, 4));
  ASSERT_OK(buffer_.Append(1, Piece("abc")));
  ASSERT_CODE(buffer_.Append(1, Piece("de")), StatusCode::kInvalidArgument);
  // The refused piece left the entry as it was.
  ASSERT_OK(buffer_.Append(1, Piece("d")));
  ASSERT_OK(buffer_.Complete(1));
  EXPECT_EQ((*buffer_.Get(1))->Joined(), "abcd");
  ASSERT_CODE(buffer_.Append(1, Piece("e")), StatusCode::kFailedPrecondition);
}

TEST_F(PushBufferTest, AppendToUnknownIdIsNotFound) {
  ASSERT_CODE(buffer_.Append(99, Piece("x")), StatusCode::kNotFound);
  ASSERT_CODE(buffer_.Complete(99), StatusCode::kNotFound);
}

TEST_F(PushBufferTest, CompleteWithMissingBytesRefused) {
  ASSERT_OK(buffer_.Reserve(1, 5));
  ASSERT_OK(buffer_.Append(1, Piece("abc")));
  ASSERT_CODE(buffer_.Complete(1), StatusCode::kInvalidArgument);
  ASSERT_CODE(buffer_.Get(1), StatusCode::kNotFound);
  ASSERT_OK(buffer_.Append(1, Piece("de")));
  ASSERT_OK(buffer_.Complete(1));
}

TEST_F(PushBufferTest, Expiry) {
  ASSERT_OK(buffer_.Reserve(1, 100));
  ASSERT_OK(buffer_.Append(1, Piece(std::string(100, 'a'))));
  ASSERT_OK(buffer_.Complete(1));
  clock_.Advance(3'000'000);
  ASSERT_OK(buffer_.Reserve(2, 100));
  EXPECT_EQ(buffer_.ExpireOld(), 0u);
  ASSERT_OK(buffer_.Get(1));

  clock_.Advance(2'000'000);  // entry 1 is 5 s old: expired; entry 2 is 2 s old.
  ASSERT_CODE(buffer_.Get(1), StatusCode::kNotFound);
  ASSERT_OK(buffer_.Append(2, Piece("x")));
  EXPECT_EQ(buffer_.ExpireOld(), 1u);
  EXPECT_EQ(buffer_.entries(), 1u);
  EXPECT_EQ(buffer_.used_bytes(), 100u);

  clock_.Advance(3'000'000);
  ASSERT_CODE(buffer_.Append(2, Piece("y")), StatusCode::kNotFound);
  EXPECT_EQ(buffer_.entries(), 0u);
  EXPECT_EQ(buffer_.used_bytes(), 0u);
}

TEST_F(PushBufferTest, ReserveDropsExpiredEntriesToMakeRoom) {
  ASSERT_OK(buffer_.Reserve(1, 1000));
  ASSERT_CODE(buffer_.Reserve(2, 1), StatusCode::kResourceExhausted);
  clock_.Advance(5'000'000);
  ASSERT_OK(buffer_.Reserve(2, 1000));
  EXPECT_EQ(buffer_.entries(), 1u);
}

TEST_F(PushBufferTest, RemoveFreesCapacity) {
  ASSERT_OK(buffer_.Reserve(1, 1000));
  ASSERT_CODE(buffer_.Reserve(2, 500), StatusCode::kResourceExhausted);
  buffer_.Remove(1);  // incomplete: an aborted push
  EXPECT_EQ(buffer_.used_bytes(), 0u);
  EXPECT_EQ(buffer_.entries(), 0u);
  ASSERT_OK(buffer_.Reserve(2, 500));
  buffer_.Remove(12345);  // absent: no-op
  EXPECT_EQ(buffer_.used_bytes(), 500u);
}

TEST_F(PushBufferTest, DuplicateIdAlreadyExists) {
  ASSERT_OK(buffer_.Reserve(1, 10));
  ASSERT_CODE(buffer_.Reserve(1, 10), StatusCode::kAlreadyExists);
  EXPECT_EQ(buffer_.used_bytes(), 10u);
  buffer_.Remove(1);
  ASSERT_OK(buffer_.Reserve(1, 10));
}

}  // namespace
}  // namespace gfs::chunkserver
