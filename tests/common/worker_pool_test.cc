#include "common/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>

#include "common/latch.h"
#include "common/mutex.h"
#include "tests/test_util.h"

namespace gfs {
namespace {

TEST(WorkerPoolTest, RunsEveryTask) {
  WorkerPool pool(3);
  std::atomic<int> ran{0};
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(pool.Submit([&] { ++ran; }));
  ASSERT_EVENTUALLY(ran == 100, std::chrono::seconds(10));
}

TEST(WorkerPoolTest, RefusesTasksBeyondTheQueueBound) {
  WorkerPool pool(/*max_threads=*/1, /*max_queued=*/2);
  Mutex mu;
  CondVar released(&mu);
  bool release = false;
  std::atomic<bool> started{false};
  std::atomic<int> ran{0};
  // Occupies the only thread until released.
  ASSERT_TRUE(pool.Submit([&] {
    started = true;
    MutexLock lock(&mu);
    while (!release) released.WaitFor(std::chrono::seconds(1));
  }));
  ASSERT_EVENTUALLY(started, std::chrono::seconds(10));
  EXPECT_TRUE(pool.Submit([&] { ++ran; }));
  EXPECT_TRUE(pool.Submit([&] { ++ran; }));
  EXPECT_FALSE(pool.Submit([&] { ++ran; })) << "a third queued task exceeds the bound";
  {
    MutexLock lock(&mu);
    release = true;
    released.SignalAll();
  }
  ASSERT_EVENTUALLY(ran == 2, std::chrono::seconds(10));
  EXPECT_TRUE(pool.Submit([&] { ++ran; })) << "room again once the queue drained";
  ASSERT_EVENTUALLY(ran == 3, std::chrono::seconds(10));
}

TEST(WorkerPoolTest, RefusesTasksAfterShutdown) {
  WorkerPool pool(2);
  pool.Shutdown();
  EXPECT_FALSE(pool.Submit([] {}));
}

}  // namespace
}  // namespace gfs

namespace gfs {
namespace {

TEST(LatchTest, WaitReturnsOnceEveryCountDownHappened) {
  WorkerPool pool(4);
  Latch done(20);
  std::atomic<int> ran{0};
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(pool.Submit([&] {
      ++ran;
      done.CountDown();
    }));
  }
  done.Wait();
  EXPECT_EQ(ran.load(), 20);
  Latch zero(0);
  zero.Wait();  // nothing to wait for
}

}  // namespace
}  // namespace gfs
