// kill -9 of the master under load: nothing it acknowledged may be lost, and nothing that
// was never asked for may appear.
#include <glog/logging.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/harness.h"
#include "tests/test_util.h"

namespace gfs::testing {
namespace {

using std::chrono::milliseconds;

// One client thread creating /c<k>/d0, /c<k>/d1, ... until told to stop.
struct Worker {
  std::string dir;  // "/c<k>"
  std::unique_ptr<Client> client;
  std::thread thread;
  std::atomic<int> attempted{0};  // d0 .. d<attempted-1> were (or are being) asked for
  std::atomic<int> acked{0};

  std::mutex mu;  // guards the vectors below
  std::vector<std::string> acked_paths;
  std::vector<std::string> unexpected;  // errors no master crash explains

  static std::string Child(int i) { return "d" + std::to_string(i); }

  void Run(const std::atomic<bool>& stop) {
    for (int i = 0; !stop.load(); ++i) {
      const std::string path = dir + "/" + Child(i);
      attempted.store(i + 1);
      Status s = client->Mkdir(path);
      std::lock_guard<std::mutex> lock(mu);
      if (s.ok()) {
        acked_paths.push_back(path);
        acked.fetch_add(1);
      } else if (s.code() != StatusCode::kUnavailable &&
                 s.code() != StatusCode::kDeadlineExceeded &&
                 // A retry whose first attempt committed before the crash.
                 s.code() != StatusCode::kAlreadyExists) {
        unexpected.push_back(path + ": " + s.ToString());
      }
    }
  }
};

class MasterCrashTest : public GfsTest {};

TEST_F(MasterCrashTest, AcknowledgedMkdirsSurviveKill9) {
  constexpr int kWorkers = 4;
  constexpr int kRounds = 3;
  std::mt19937 rng(seed());

  MiniCluster cluster(test_dir());
  ASSERT_OK(cluster.StartMaster());

  // Short deadlines, so that calls fail instead of waiting out the master's absence.
  ClientOptions options;
  options.rpc_timeout = milliseconds(1000);
  options.operation_timeout = milliseconds(2000);
  options.initial_backoff = milliseconds(20);
  options.max_backoff = milliseconds(200);

  std::vector<std::unique_ptr<Worker>> workers;
  {
    std::unique_ptr<Client> setup = cluster.NewClient();
    for (int k = 0; k < kWorkers; ++k) {
      auto w = std::make_unique<Worker>();
      w->dir = "/c" + std::to_string(k);
      ASSERT_OK(setup->Mkdir(w->dir));
      w->client = cluster.NewClient(options);
      workers.push_back(std::move(w));
    }
  }

  std::atomic<bool> stop{false};
  for (auto& w : workers) w->thread = std::thread([&stop, w = w.get()] { w->Run(stop); });
  auto stop_workers = [&] {
    stop.store(true);
    for (auto& w : workers) {
      if (w->thread.joinable()) w->thread.join();
    }
  };
  // Joins the workers however this test ends (a failed ASSERT returns early).
  struct JoinOnExit {
    std::function<void()> join;
    ~JoinOnExit() { join(); }
  } join_on_exit{stop_workers};
  auto total_acked = [&] {
    int n = 0;
    for (auto& w : workers) n += w->acked.load();
    return n;
  };

  for (int round = 0; round < kRounds; ++round) {
    const int acked_before = total_acked();
    // Not vacuous: the (re)started master must acknowledge some mkdirs in every round.
    bool progressed = WaitFor([&] { return total_acked() > acked_before; }, milliseconds(20000));
    ASSERT_TRUE(progressed) << "no mkdir acknowledged in round " << round;

    std::this_thread::sleep_for(milliseconds(std::uniform_int_distribution<int>(300, 700)(rng)));
    cluster.KillMaster();
    LOG(INFO) << "round " << round << ": killed the master after " << total_acked() - acked_before
              << " acknowledged mkdirs";
    // Down for a moment, so that some calls see the outage.
    std::this_thread::sleep_for(milliseconds(std::uniform_int_distribution<int>(0, 300)(rng)));
    ASSERT_OK(cluster.RestartMaster());
  }
  {
    const int acked_before = total_acked();
    bool progressed = WaitFor([&] { return total_acked() > acked_before; }, milliseconds(20000));
    stop_workers();
    ASSERT_TRUE(progressed) << "no mkdir acknowledged after the last restart";
  }

  // A final crash with nothing in flight, then check from a fresh client.
  cluster.KillMaster();
  ASSERT_OK(cluster.RestartMaster());
  std::unique_ptr<Client> client = cluster.NewClient();

  int total = 0;
  for (auto& w : workers) {
    std::lock_guard<std::mutex> lock(w->mu);
    EXPECT_TRUE(w->unexpected.empty())
        << w->unexpected.size() << " unexpected errors, first: " << w->unexpected.front();
    total += static_cast<int>(w->acked_paths.size());

    for (const std::string& path : w->acked_paths) {
      Result<FileInfo> info = client->Stat(path);
      ASSERT_TRUE(info.ok()) << "acknowledged mkdir lost: " << path << ": "
                             << info.status().ToString();
      EXPECT_TRUE(info->is_directory()) << path;
    }

    std::set<std::string> may_exist;
    for (int i = 0; i < w->attempted.load(); ++i) may_exist.insert(Worker::Child(i));
    Result<std::vector<FileInfo>> listing = client->List(w->dir);
    ASSERT_OK(listing);
    std::set<std::string> seen;
    for (const FileInfo& entry : *listing) {
      EXPECT_TRUE(may_exist.count(entry.name) == 1)
          << w->dir << "/" << entry.name << " exists but was never asked for";
      EXPECT_TRUE(seen.insert(entry.name).second) << "listed twice: " << entry.name;
      EXPECT_TRUE(entry.is_directory()) << w->dir << "/" << entry.name;
    }
    EXPECT_GE(seen.size(), w->acked_paths.size()) << w->dir;
    LOG(INFO) << w->dir << ": " << w->attempted.load() << " attempted, " << w->acked_paths.size()
              << " acknowledged, " << seen.size() << " exist";
  }
  LOG(INFO) << total << " acknowledged mkdirs survived " << kRounds + 1 << " kill -9s";
}

// A client that saw the master die works again soon after the master is back: its
// channel reconnects within the client's reconnect backoff (at most 1 s), plus the
// master's start-up. Measured from the moment the new master process is forked, without
// the harness's health check (whose Ping could warm up a shared gRPC subchannel).
TEST_F(MasterCrashTest, ClientRecoversPromptlyAfterRestart) {
  MiniCluster cluster(test_dir());
  ASSERT_OK(cluster.StartMaster());
  ClientOptions options;
  options.rpc_timeout = milliseconds(1000);
  options.operation_timeout = milliseconds(1000);
  options.initial_backoff = milliseconds(20);
  options.max_backoff = milliseconds(200);
  std::unique_ptr<Client> client = cluster.NewClient(options);
  ASSERT_OK(client->Mkdir("/before"));

  constexpr auto kPromptly = milliseconds(2500);
  for (int round = 0; round < 3; ++round) {
    cluster.KillMaster();
    EXPECT_FALSE(client->Stat("/before").ok()) << "the master is down";

    const auto start = std::chrono::steady_clock::now();
    ASSERT_OK(cluster.master()->Start());
    Status last;
    bool recovered = WaitFor(
        [&] {
          last = client->Mkdir("/after" + std::to_string(round));
          return last.ok();
        },
        milliseconds(20000));
    const auto took =
        std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start);
    ASSERT_TRUE(recovered) << "client never recovered: " << last.ToString();
    LOG(INFO) << "round " << round << ": client recovered " << took.count()
              << " ms after the master was restarted";
    EXPECT_LT(took.count(), kPromptly.count()) << "round " << round << ": the client needed "
                                               << took.count() << " ms to use the restarted master";
    ASSERT_OK(cluster.WaitMasterHealthy());
  }
}

}  // namespace
}  // namespace gfs::testing
