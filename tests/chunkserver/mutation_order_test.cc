// Secondaries apply a chunk's mutations in the primary's serial order, whatever order
// they arrive in.
#include "chunkserver/mutation_order.h"

#include <algorithm>
#include <random>
#include <thread>

#include "tests/test_util.h"

namespace gfs::chunkserver {
namespace {

using std::chrono::milliseconds;

class MutationOrderTest : public gfs::testing::GfsTest {};

TEST_F(MutationOrderTest, OutOfOrderArrivalsApplyInSerialOrder) {
  MutationOrder order;
  constexpr int kMutations = 64;
  std::vector<uint64_t> serials(kMutations);
  for (int i = 0; i < kMutations; ++i) serials[i] = i + 1;
  std::shuffle(serials.begin(), serials.end(), std::mt19937(seed()));

  Mutex mu;
  std::vector<uint64_t> applied;
  std::vector<std::thread> threads;
  for (uint64_t serial : serials) {
    threads.emplace_back([&, serial] {
      ASSERT_OK(order.WaitTurn(7, 3, serial, milliseconds(10000)));
      {
        MutexLock lock(&mu);
        applied.push_back(serial);
      }
      order.Done(7, 3, serial);
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_EQ(applied.size(), static_cast<size_t>(kMutations));
  for (int i = 0; i < kMutations; ++i) EXPECT_EQ(applied[i], static_cast<uint64_t>(i + 1));
}

TEST_F(MutationOrderTest, MissingPredecessorTimesOut) {
  MutationOrder order;
  ASSERT_OK(order.WaitTurn(1, 1, 1, milliseconds(100)));
  order.Done(1, 1, 1);
  // Serial 2 never arrives: 3 gives up with Aborted, naming what it waited for.
  Status s = order.WaitTurn(1, 1, 3, milliseconds(50));
  EXPECT_EQ(s.code(), StatusCode::kAborted) << s.ToString();
  EXPECT_NE(s.message().find("serial 2"), std::string::npos) << s.ToString();
}

TEST_F(MutationOrderTest, NewVersionRestartsCountOldVersionRefused) {
  MutationOrder order;
  ASSERT_OK(order.WaitTurn(1, 1, 1, milliseconds(100)));
  order.Done(1, 1, 1);
  // A new lease at version 2 starts at serial 1 again.
  ASSERT_OK(order.WaitTurn(1, 2, 1, milliseconds(100)));
  order.Done(1, 2, 1);
  ASSERT_CODE(order.WaitTurn(1, 1, 2, milliseconds(100)), StatusCode::kFailedPrecondition);
  // A serial already done is refused rather than applied twice.
  ASSERT_CODE(order.WaitTurn(1, 2, 1, milliseconds(100)), StatusCode::kFailedPrecondition);
  // Other chunks are independent.
  ASSERT_OK(order.WaitTurn(2, 1, 1, milliseconds(100)));
}

TEST_F(MutationOrderTest, WaiterReleasedByNewVersion) {
  MutationOrder order;
  std::thread waiter([&] {
    // Waits for serial 1 of version 1, which never comes; version 2 overtakes it.
    Status s = order.WaitTurn(5, 1, 2, milliseconds(5000));
    EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  });
  ASSERT_OK(order.WaitTurn(5, 2, 1, milliseconds(100)));
  order.Done(5, 2, 1);
  waiter.join();
}

}  // namespace
}  // namespace gfs::chunkserver
