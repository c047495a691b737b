#include "chunkserver/lease_table.h"

#include <thread>

#include "tests/test_util.h"

namespace gfs::chunkserver {
namespace {

constexpr uint64_t kChunk = 4000;

class LeaseTableTest : public gfs::testing::GfsTest {
 protected:
  ManualClock clock_;
  LeaseTable leases_{&clock_};
};

TEST_F(LeaseTableTest, GrantAssignsSerialsAndExpires) {
  ASSERT_CODE(leases_.StartMutation(1, 5), StatusCode::kFailedPrecondition);
  leases_.Grant(1, 5, 1000, kChunk, {"b:1", "c:1"});
  auto first = leases_.StartMutation(1, 5);
  ASSERT_OK(first);
  EXPECT_EQ(first->serial, 1u);
  EXPECT_EQ(first->secondaries, (std::vector<std::string>{"b:1", "c:1"}));
  EXPECT_EQ(leases_.StartMutation(1, 5)->serial, 2u);
  ASSERT_CODE(leases_.StartMutation(1, 4), StatusCode::kFailedPrecondition);
  clock_.Advance(1000 * 1000);
  ASSERT_CODE(leases_.StartMutation(1, 5), StatusCode::kFailedPrecondition);
  EXPECT_FALSE(leases_.Holds(1));
}

TEST_F(LeaseTableTest, RegrantRestartsSerials) {
  leases_.Grant(1, 5, 1000, kChunk, {});
  ASSERT_OK(leases_.StartMutation(1, 5));
  leases_.Grant(1, 6, 1000, kChunk, {});
  EXPECT_EQ(leases_.StartMutation(1, 6)->serial, 1u);
}

TEST_F(LeaseTableTest, OnlyTheFirstMutationOfANewChunkCreatesItsSecondaries) {
  leases_.Grant(1, 1, 1000, kChunk, {"b:1"}, /*new_chunk=*/true);
  EXPECT_TRUE(leases_.StartMutation(1, 1)->creates_secondaries);
  EXPECT_FALSE(leases_.StartMutation(1, 1)->creates_secondaries);
  // An append first does too.
  leases_.Grant(2, 1, 1000, kChunk, {"b:1"}, /*new_chunk=*/true);
  EXPECT_TRUE(leases_.StartAppend(2, 1, 10, 0)->creates_secondaries);
  EXPECT_FALSE(leases_.StartAppend(2, 1, 10, 0)->creates_secondaries);
  // A lease on a chunk that existed before never creates anything.
  leases_.Grant(3, 4, 1000, kChunk, {"b:1"});
  EXPECT_FALSE(leases_.StartMutation(3, 4)->creates_secondaries);
}

TEST_F(LeaseTableTest, RevokeStopsMutations) {
  leases_.Grant(1, 5, 1000, kChunk, {});
  ASSERT_OK(leases_.Revoke(1));
  ASSERT_CODE(leases_.StartMutation(1, 5), StatusCode::kFailedPrecondition);
}

TEST_F(LeaseTableTest, RevokeWaitsForMutationsInFlight) {
  leases_.Grant(1, 5, 1000, kChunk, {});
  ASSERT_OK(leases_.StartMutation(1, 5));
  // The mutation is still running: the revocation cannot promise nothing lands later.
  ASSERT_CODE(leases_.Revoke(1, std::chrono::milliseconds(20)), StatusCode::kDeadlineExceeded);
  ASSERT_CODE(leases_.StartMutation(1, 5), StatusCode::kFailedPrecondition);  // revoked anyway
  std::thread finisher([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    leases_.FinishMutation(1);
  });
  ASSERT_OK(leases_.Revoke(1, std::chrono::seconds(10)));  // returns once it finished
  finisher.join();
}

TEST_F(LeaseTableTest, ExtensionOnlyForWrittenLeasesAndFromSendTime) {
  leases_.Grant(1, 5, 1000, kChunk, {});
  leases_.Grant(2, 5, 1000, kChunk, {});
  ASSERT_OK(leases_.StartMutation(1, 5));
  clock_.Advance(600 * 1000);
  auto candidates = leases_.ExtensionCandidates(500);
  ASSERT_EQ(candidates.size(), 1u);  // chunk 2 saw no mutation: let it lapse
  EXPECT_EQ(candidates[0].first, 1u);
  const int64_t sent = clock_.MonotonicMicros();
  clock_.Advance(100 * 1000);  // the reply takes a while
  leases_.Extend({1}, sent, 1000);
  clock_.Advance(850 * 1000);  // 950 ms after the heartbeat was sent
  EXPECT_TRUE(leases_.Holds(1));
  EXPECT_FALSE(leases_.Holds(2));
  clock_.Advance(100 * 1000);  // 1050 ms after: over, counted from the send time
  EXPECT_FALSE(leases_.Holds(1));
}

TEST_F(LeaseTableTest, AppendsGetDisjointOffsetsThenPadding) {
  leases_.Grant(1, 5, 1000, kChunk, {});
  // The chunk already holds 100 bytes; appends queue up behind each other even before
  // any of them is applied.
  auto a = leases_.StartAppend(1, 5, 1000, 100);
  ASSERT_OK(a);
  EXPECT_EQ(a->offset, 100u);
  EXPECT_EQ(a->pad_to, 0u);
  auto b = leases_.StartAppend(1, 5, 1000, 100);
  EXPECT_EQ(b->offset, 1100u);
  EXPECT_EQ(b->serial, a->serial + 1);
  EXPECT_EQ(leases_.StartAppend(1, 5, 1000, 100)->offset, 2100u);
  // 3100 + 1000 > 4000: this one pads the chunk, and so does everything after it.
  auto d = leases_.StartAppend(1, 5, 1000, 100);
  EXPECT_EQ(d->pad_to, kChunk);
  EXPECT_EQ(leases_.StartAppend(1, 5, 1, 100)->pad_to, kChunk);
  // Records are limited to a quarter of the chunk; a refused one takes no serial.
  const uint64_t next_serial = leases_.StartAppend(1, 5, 1, 100)->serial + 1;
  ASSERT_CODE(leases_.StartAppend(1, 5, kChunk / 4 + 1, 100), StatusCode::kInvalidArgument);
  ASSERT_CODE(leases_.StartAppend(1, 5, 0, 100), StatusCode::kInvalidArgument);
  EXPECT_EQ(leases_.StartMutation(1, 5)->serial, next_serial);
  // Data longer than the ordered appends (plain writes) moves the start.
  leases_.Grant(2, 1, 1000, kChunk, {});
  EXPECT_EQ(leases_.StartAppend(2, 1, 10, 0)->offset, 0u);
  EXPECT_EQ(leases_.StartAppend(2, 1, 10, 500)->offset, 500u);
  ASSERT_CODE(leases_.StartAppend(3, 1, 10, 0), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace gfs::chunkserver
