#include "tests/test_util.h"

#include <glog/logging.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <thread>

namespace gfs::testing {

bool WaitFor(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::milliseconds(1);
  while (true) {
    if (cond()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
}

void GfsTest::SetUp() {
  const char* base = std::getenv("TEST_TMPDIR");
  std::string root = base != nullptr ? base : std::filesystem::temp_directory_path().string();
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = std::string(info->test_suite_name()) + "." + info->name();
  for (char& c : name) {
    if (c == '/') c = '_';
  }
  std::string tmpl = root + "/gfs-" + name + "-XXXXXX";
  char* made = mkdtemp(tmpl.data());
  ASSERT_NE(made, nullptr) << "mkdtemp " << tmpl;
  test_dir_ = made;

  const char* forced = std::getenv("GFS_TEST_SEED");
  seed_ = forced != nullptr ? static_cast<uint32_t>(std::strtoul(forced, nullptr, 10))
                            : std::random_device{}();
  LOG(INFO) << "test dir " << test_dir_ << ", seed " << seed_;
}

void GfsTest::TearDown() {
  if (test_dir_.empty()) return;
  if (HasFailure()) {
    LOG(INFO) << "test failed; keeping " << test_dir_;
    return;
  }
  std::error_code ec;
  std::filesystem::remove_all(test_dir_, ec);
}

}  // namespace gfs::testing
