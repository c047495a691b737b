#include "chunkserver/lease_table.h"

#include "tests/test_util.h"

namespace gfs::chunkserver {
namespace {

class LeaseTableTest : public gfs::testing::GfsTest {
 protected:
  ManualClock clock_;
  LeaseTable leases_{&clock_};
};

TEST_F(LeaseTableTest, GrantAssignsSerialsAndExpires) {
  ASSERT_CODE(leases_.StartMutation(1, 5), StatusCode::kFailedPrecondition);
  leases_.Grant(1, 5, 1000, {"b:1", "c:1"});
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
  leases_.Grant(1, 5, 1000, {});
  ASSERT_OK(leases_.StartMutation(1, 5));
  leases_.Grant(1, 6, 1000, {});
  EXPECT_EQ(leases_.StartMutation(1, 6)->serial, 1u);
}

TEST_F(LeaseTableTest, RevokeStopsMutations) {
  leases_.Grant(1, 5, 1000, {});
  leases_.Revoke(1);
  ASSERT_CODE(leases_.StartMutation(1, 5), StatusCode::kFailedPrecondition);
}

TEST_F(LeaseTableTest, ExtensionOnlyForWrittenLeasesAndFromSendTime) {
  leases_.Grant(1, 5, 1000, {});
  leases_.Grant(2, 5, 1000, {});
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

}  // namespace
}  // namespace gfs::chunkserver
