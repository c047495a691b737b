// What every gfs test uses: status assertions, a temporary directory per test, and
// waiting on a condition with a deadline instead of sleeping.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>

#include "gfs/status.h"

#define ASSERT_OK(expr) ASSERT_PRED_FORMAT1(::gfs::testing::IsOk, expr)
#define EXPECT_OK(expr) EXPECT_PRED_FORMAT1(::gfs::testing::IsOk, expr)

// Asserts that `expr` (a Status or Result) failed with `code`.
#define ASSERT_CODE(expr, code) ASSERT_PRED_FORMAT2(::gfs::testing::HasCode, expr, code)

// Polls `cond` until it is true or `timeout` passes; fails the test on timeout.
#define ASSERT_EVENTUALLY(cond, timeout)                                            \
  ASSERT_TRUE(::gfs::testing::WaitFor([&]() -> bool { return (cond); }, (timeout))) \
      << "condition never became true within the deadline: " #cond

namespace gfs::testing {

inline Status ToStatus(const Status& s) { return s; }
template <typename T>
Status ToStatus(const Result<T>& r) {
  return r.status();
}

template <typename T>
::testing::AssertionResult IsOk(const char* expr, const T& value) {
  const Status s = ToStatus(value);
  if (s.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << expr << ": " << s.ToString();
}

template <typename T>
::testing::AssertionResult HasCode(const char* expr, const char*, const T& value, StatusCode code) {
  const Status s = ToStatus(value);
  if (s.code() == code) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << expr << ": expected " << StatusCodeName(code) << ", got " << s.ToString();
}

// Polls `cond` every few milliseconds until it returns true (returns true) or `timeout`
// passes (returns false).
bool WaitFor(const std::function<bool()>& cond, std::chrono::milliseconds timeout);

// A test fixture with a fresh temporary directory, removed afterwards unless the test
// failed (then it is kept and its path logged). Logs the random seed it hands out.
class GfsTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  const std::string& test_dir() const { return test_dir_; }
  // A seed for this test's random choices, logged so a failure can be replayed
  // (GFS_TEST_SEED=<n> forces it).
  uint32_t seed() const { return seed_; }

 private:
  std::string test_dir_;
  uint32_t seed_ = 0;
};

}  // namespace gfs::testing
