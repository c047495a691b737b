#include "chunkserver/push_buffer.h"

#include <gtest/gtest.h>

#include <string>

#include "common/clock.h"
#include "tests/test_util.h"

namespace gfs::chunkserver {
namespace {

using std::chrono::milliseconds;

class PushBufferTest : public ::testing::Test {
 protected:
  ManualClock clock_;
  PushBuffer buffer_{1000, milliseconds(5000), &clock_};
};

TEST_F(PushBufferTest, ReserveAppendCompleteGet) {
  ASSERT_OK(buffer_.Reserve(7, 10));
  EXPECT_EQ(buffer_.used_bytes(), 10u);
  EXPECT_EQ(buffer_.entries(), 1u);
  ASSERT_OK(buffer_.Append(7, "hello"));
  ASSERT_OK(buffer_.Append(7, ""));
  ASSERT_OK(buffer_.Append(7, "world"));
  ASSERT_OK(buffer_.Complete(7));
  Result<std::shared_ptr<const std::string>> got = buffer_.Get(7);
  ASSERT_OK(got);
  EXPECT_EQ(**got, "helloworld");
  // Get does not consume; the bytes outlive Remove for whoever holds them.
  ASSERT_OK(buffer_.Get(7));
  buffer_.Remove(7);
  EXPECT_EQ(**got, "helloworld");
  ASSERT_CODE(buffer_.Get(7), StatusCode::kNotFound);
}

TEST_F(PushBufferTest, EmptyEntry) {
  ASSERT_OK(buffer_.Reserve(1, 0));
  ASSERT_OK(buffer_.Complete(1));
  Result<std::shared_ptr<const std::string>> got = buffer_.Get(1);
  ASSERT_OK(got);
  EXPECT_TRUE((*got)->empty());
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
  ASSERT_OK(buffer_.Append(1, "abcd"));
  ASSERT_CODE(buffer_.Get(1), StatusCode::kNotFound);
  ASSERT_OK(buffer_.Complete(1));
  ASSERT_OK(buffer_.Get(1));
}

TEST_F(PushBufferTest, AppendPastReservedRefused) {
  ASSERT_OK(buffer_.Reserve(1, 4));
  ASSERT_OK(buffer_.Append(1, "abc"));
  ASSERT_CODE(buffer_.Append(1, "de"), StatusCode::kInvalidArgument);
  // The refused piece left the entry as it was.
  ASSERT_OK(buffer_.Append(1, "d"));
  ASSERT_OK(buffer_.Complete(1));
  EXPECT_EQ(**buffer_.Get(1), "abcd");
  ASSERT_CODE(buffer_.Append(1, "e"), StatusCode::kFailedPrecondition);
}

TEST_F(PushBufferTest, AppendToUnknownIdIsNotFound) {
  ASSERT_CODE(buffer_.Append(99, "x"), StatusCode::kNotFound);
  ASSERT_CODE(buffer_.Complete(99), StatusCode::kNotFound);
}

TEST_F(PushBufferTest, CompleteWithMissingBytesRefused) {
  ASSERT_OK(buffer_.Reserve(1, 5));
  ASSERT_OK(buffer_.Append(1, "abc"));
  ASSERT_CODE(buffer_.Complete(1), StatusCode::kInvalidArgument);
  ASSERT_CODE(buffer_.Get(1), StatusCode::kNotFound);
  ASSERT_OK(buffer_.Append(1, "de"));
  ASSERT_OK(buffer_.Complete(1));
}

TEST_F(PushBufferTest, Expiry) {
  ASSERT_OK(buffer_.Reserve(1, 100));
  ASSERT_OK(buffer_.Append(1, std::string(100, 'a')));
  ASSERT_OK(buffer_.Complete(1));
  clock_.Advance(3'000'000);
  ASSERT_OK(buffer_.Reserve(2, 100));
  EXPECT_EQ(buffer_.ExpireOld(), 0u);
  ASSERT_OK(buffer_.Get(1));

  clock_.Advance(2'000'000);  // entry 1 is 5 s old: expired; entry 2 is 2 s old.
  ASSERT_CODE(buffer_.Get(1), StatusCode::kNotFound);
  ASSERT_OK(buffer_.Append(2, "x"));
  EXPECT_EQ(buffer_.ExpireOld(), 1u);
  EXPECT_EQ(buffer_.entries(), 1u);
  EXPECT_EQ(buffer_.used_bytes(), 100u);

  clock_.Advance(3'000'000);
  ASSERT_CODE(buffer_.Append(2, "y"), StatusCode::kNotFound);
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
