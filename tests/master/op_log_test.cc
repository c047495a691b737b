// The operation log: indices, group commit, the bounded tail, checkpoints.
#include "master/op_log.h"

#include <glog/logging.h>

#include <filesystem>
#include <thread>

#include "master/meta_keys.h"
#include "tests/master/faulty_file_system.h"
#include "tests/master/namespace_fixture.h"

namespace gfs::master {
namespace {

using OpLogTest = NamespaceFixture;

// The metadata of another directory (a checkpoint, a crash image), opened beside the
// fixture's.
struct LogCopy {
  MasterStateMachine machine;
  ManualClock clock;
  std::unique_ptr<OpLog> log;
  std::unique_ptr<Namespace> ns;
};

void OpenCopy(const std::string& dir, LogCopy* copy) {
  OpLogOptions options;
  options.data_dir = dir;
  auto log = OpLog::Open(options, &copy->machine);
  ASSERT_OK(log);
  copy->log = std::move(log).value();
  copy->ns = std::make_unique<Namespace>(NamespaceOptions{}, copy->log.get(), &copy->clock);
}

TEST_F(OpLogTest, OnlyEffectiveEntriesAreLogged) {
  EXPECT_EQ(log_->applied().epoch(), 1u);
  EXPECT_EQ(log_->applied().index(), 0u);
  ASSERT_OK(ns_->Mkdir("/a", false));
  EXPECT_EQ(log_->applied().index(), 1u);
  ASSERT_CODE(ns_->Mkdir("/a", false), StatusCode::kAlreadyExists);  // failed: not logged
  ASSERT_OK(ns_->Mkdir("/a", true));                                 // no change: not logged
  EXPECT_EQ(log_->applied().index(), 1u);
  ASSERT_OK(ns_->CreateFile("/a/f", 0, false));
  EXPECT_EQ(log_->applied().index(), 2u);
  EXPECT_EQ(log_->stats().synced_writes, 2u);

  auto entries = log_->ReadEntries(1, 10);
  ASSERT_OK(entries);
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].index(), 1u);
  EXPECT_EQ((*entries)[0].epoch(), 1u);
  EXPECT_EQ((*entries)[0].mkdir().path(), "/a");
  EXPECT_EQ((*entries)[1].index(), 2u);
  EXPECT_EQ((*entries)[1].create_file().path(), "/a/f");
  EXPECT_EQ((*entries)[1].timestamp_us(), clock_.NowMicros());
  EXPECT_TRUE(log_->ReadEntries(3, 10)->empty());
}

TEST_F(OpLogTest, ConcurrentProposersShareFsyncs) {
  constexpr int kThreads = 16;
  constexpr int kPerThread = 40;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        // parents=true: entries of one group must see each other's effects (/g, /g/tN).
        std::string path = "/g/t" + std::to_string(t) + "/d" + std::to_string(i);
        if (!ns_->Mkdir(path, true).ok()) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);

  const OpLog::Stats stats = log_->stats();
  // One entry per Mkdir (the first of each thread also creates /g and /g/tN).
  constexpr uint64_t kEntries = kThreads * kPerThread;
  EXPECT_EQ(stats.proposals, kEntries);
  EXPECT_EQ(stats.logged_entries, kEntries);
  EXPECT_LT(stats.synced_writes, stats.logged_entries)
      << "group commit should let concurrent proposals share fsyncs";
  LOG(INFO) << stats.logged_entries << " entries in " << stats.synced_writes << " fsyncs";

  // Indices are dense and every acknowledged directory exists, also after reopening.
  auto entries = log_->ReadEntries(1, kEntries + 10);
  ASSERT_OK(entries);
  ASSERT_EQ(entries->size(), kEntries);
  for (size_t i = 0; i < entries->size(); ++i) EXPECT_EQ((*entries)[i].index(), i + 1);
  Reopen();
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      ASSERT_OK(ns_->Stat("/g/t" + std::to_string(t) + "/d" + std::to_string(i)));
    }
  }
}

// The log on a disk that fails: closes the log before the environment goes away, even
// when an assertion ends the test early.
class FaultyDiskOpLogTest : public OpLogTest {
 protected:
  void SetUp() override {
    OpLogTest::SetUp();
    env_ = rocksdb::NewCompositeEnv(fs_);
    OpLogOptions options;
    options.env = env_.get();
    Reopen(options);
  }
  void TearDown() override {
    ns_.reset();
    log_.reset();
  }

  std::shared_ptr<FaultyFileSystem> fs_ = std::make_shared<FaultyFileSystem>();
  std::unique_ptr<rocksdb::Env> env_;
};

TEST_F(FaultyDiskOpLogTest, FailedFsyncStopsTheLogAndHidesWhatItDidNotCover) {
  ASSERT_OK(ns_->Mkdir("/kept", false));
  fs_->fail_wal_syncs = true;
  const Status lost = ns_->Mkdir("/lost", false).status();
  ASSERT_FALSE(lost.ok());
  EXPECT_NE(lost.message().find("restart the master"), std::string::npos) << lost.ToString();
  // Readers see only what is durable: the acknowledged entry, not the failed one.
  ASSERT_OK(ns_->Stat("/kept"));
  ASSERT_CODE(ns_->Stat("/lost"), StatusCode::kNotFound);
  EXPECT_EQ(log_->applied().index(), 1u);
  // What reached the disk is unknown now: no more proposals, even with the disk back.
  fs_->fail_wal_syncs = false;
  ASSERT_FALSE(ns_->Mkdir("/after", false).ok());
  ASSERT_OK(ns_->Stat("/kept"));

  // A restart recovers from the disk: the acknowledged entry is there, the log is dense
  // and takes proposals again. (/lost may or may not have reached the disk; it was
  // never acknowledged, so either is correct.)
  Reopen();
  ASSERT_OK(ns_->Stat("/kept"));
  ASSERT_OK(ns_->Mkdir("/after", false));
  auto entries = log_->ReadEntries(1, 10);
  ASSERT_OK(entries);
  for (size_t i = 0; i < entries->size(); ++i) EXPECT_EQ((*entries)[i].index(), i + 1);
  EXPECT_EQ(entries->back().mkdir().path(), "/after");
}

TEST_F(FaultyDiskOpLogTest, FailedWriteFailsTheGroupAndLeavesNoTrace) {
  ASSERT_OK(ns_->Mkdir("/kept", false));
  fs_->fail_wal_appends = true;
  ASSERT_FALSE(ns_->Mkdir("/lost", false).ok());
  ASSERT_CODE(ns_->Stat("/lost"), StatusCode::kNotFound);
  fs_->fail_wal_appends = false;
  ASSERT_FALSE(ns_->Mkdir("/after", false).ok());
  Reopen();
  ASSERT_OK(ns_->Stat("/kept"));
  ASSERT_CODE(ns_->Stat("/lost"), StatusCode::kNotFound);
  EXPECT_EQ(log_->applied().index(), 1u);
}

TEST_F(OpLogTest, ProposalsBeyondTheQueueBoundAreRefused) {
  OpLogOptions options;
  options.max_queued_proposals = 0;  // every proposal finds the queue full
  Reopen(options);
  const Status refused = ns_->Mkdir("/d", false).status();
  ASSERT_CODE(refused, StatusCode::kUnavailable);
  EXPECT_NE(refused.message().find("overloaded"), std::string::npos) << refused.ToString();
  EXPECT_EQ(log_->applied().index(), 0u);
  Reopen();  // the default bound takes it
  ASSERT_OK(ns_->Mkdir("/d", false));
}

TEST_F(OpLogTest, TailIsBounded) {
  OpLogOptions options;
  options.tail_entries = 10;
  Reopen(options);
  for (int i = 0; i < 25; ++i) ASSERT_OK(ns_->Mkdir("/d" + std::to_string(i), false));
  EXPECT_EQ(log_->applied().index(), 25u);
  EXPECT_EQ(log_->first_retained_index(), 16u);
  ASSERT_CODE(log_->ReadEntries(15, 100), StatusCode::kOutOfRange);
  auto tail = log_->ReadEntries(16, 100);
  ASSERT_OK(tail);
  ASSERT_EQ(tail->size(), 10u);
  EXPECT_EQ(tail->front().mkdir().path(), "/d15");
  EXPECT_EQ(tail->back().mkdir().path(), "/d24");
  // The dropped entries are really gone from the database, not just hidden.
  std::string value;
  EXPECT_TRUE(log_->db()->Get(rocksdb::ReadOptions(), LogKey(15), &value).IsNotFound());
}

// The WAL is preallocated with its size set, so what a power cut leaves is a WAL that
// ends in zeros. A copy of the directory taken while the log runs is such an image.
TEST_F(OpLogTest, ACrashImageWithAPreallocatedWalOpensWithEveryAcknowledgedEntry) {
  for (int i = 0; i < 20; ++i) ASSERT_OK(ns_->Mkdir("/d" + std::to_string(i), false));
  uintmax_t wal_bytes = 0;
  for (const auto& file : std::filesystem::directory_iterator(data_dir_)) {
    if (file.path().extension() == ".log") wal_bytes += file.file_size();
  }
  // 20 small entries take a few KiB; the file is as long as its preallocation.
  EXPECT_GT(wal_bytes, 1u << 20) << "the WAL's size is not preallocated";

  const std::string image = test_dir() + "/crash-image";
  std::filesystem::copy(data_dir_, image, std::filesystem::copy_options::recursive);
  LogCopy recovered;
  ASSERT_NO_FATAL_FAILURE(OpenCopy(image, &recovered));
  EXPECT_EQ(recovered.log->applied().index(), 20u);
  for (int i = 0; i < 20; ++i) ASSERT_OK(recovered.ns->Stat("/d" + std::to_string(i)));
  ASSERT_OK(recovered.ns->Mkdir("/after", false));
  EXPECT_EQ(recovered.log->applied().index(), 21u);
}

TEST_F(OpLogTest, CheckpointOpensAtItsPosition) {
  ASSERT_OK(ns_->Mkdir("/before", false));
  const std::string checkpoint = test_dir() + "/checkpoint";
  ASSERT_OK(log_->CreateCheckpoint(checkpoint));
  ASSERT_OK(ns_->Mkdir("/after", false));
  ASSERT_CODE(log_->CreateCheckpoint(checkpoint), StatusCode::kInternal);  // exists already

  LogCopy copy;
  ASSERT_NO_FATAL_FAILURE(OpenCopy(checkpoint, &copy));
  EXPECT_EQ(copy.log->applied().index(), 1u);
  ASSERT_OK(copy.ns->Stat("/before"));
  ASSERT_CODE(copy.ns->Stat("/after"), StatusCode::kNotFound);
  // The copy continues the log where the checkpoint was taken.
  ASSERT_OK(copy.ns->Mkdir("/other", false));
  EXPECT_EQ(copy.log->applied().index(), 2u);
}

}  // namespace
}  // namespace gfs::master
