// The state machine is deterministic: the same entries on an empty database give the
// same state, byte for byte. This is what lets followers replay the leader's log.
#include "master/state_machine.h"

#include <map>
#include <random>

#include "master/meta_txn.h"
#include "tests/master/namespace_fixture.h"

namespace gfs::master {
namespace {

using StateMachineTest = NamespaceFixture;

std::map<std::string, std::string> Dump(rocksdb::DB* db) {
  std::map<std::string, std::string> all;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  for (it->SeekToFirst(); it->Valid(); it->Next())
    all[it->key().ToString()] = it->value().ToString();
  return all;
}

TEST_F(StateMachineTest, ReplayingTheLogRebuildsTheSameState) {
  // A random mix of operations, successful and failing, with a moving clock.
  std::mt19937 rng(seed());
  const std::vector<std::string> paths = {"/a", "/b", "/a/x", "/a/y", "/b/x", "/a/x/z"};
  for (int i = 0; i < 300; ++i) {
    const std::string& p = paths[rng() % paths.size()];
    const std::string& q = paths[rng() % paths.size()];
    clock_.Advance(1000 + rng() % 1000);
    switch (rng() % 5) {
      case 0:
        (void)ns_->Mkdir(p, rng() % 2 == 0);
        break;
      case 1:
        (void)ns_->CreateFile(p, 1 + rng() % 3, rng() % 2 == 0);
        break;
      case 2:
        (void)ns_->Delete(p, rng() % 2 == 0);
        break;
      case 3:
        (void)ns_->Rename(p, q);
        break;
      case 4:
        (void)ns_->Mkdir(p + "/n" + std::to_string(i), true);
        break;
    }
  }
  auto entries = log_->ReadEntries(1, 10000);
  ASSERT_OK(entries);
  ASSERT_EQ(entries->size(), log_->applied().index());
  ASSERT_GT(entries->size(), 50u) << "too few operations took effect to mean anything";

  MasterStateMachine machine;
  OpLogOptions options;
  options.data_dir = test_dir() + "/follower";
  auto follower = OpLog::Open(options, &machine);
  ASSERT_OK(follower);
  for (const proto::LogEntry& entry : *entries) {
    ApplyResult result = (*follower)->Propose(entry);
    ASSERT_OK(result.status) << "entry " << entry.index();
  }
  EXPECT_EQ((*follower)->applied().index(), log_->applied().index());
  EXPECT_EQ(Dump((*follower)->db()), Dump(log_->db()));
}

TEST_F(StateMachineTest, UnknownOperationIsRejected) {
  MetaTxn txn(log_->db(), MetaTxn::Mode::kReadWrite);
  proto::LogEntry empty;
  ApplyResult result = state_machine_.Apply(empty, &txn);
  EXPECT_EQ(result.status.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(txn.empty());
}

TEST_F(StateMachineTest, InvalidPathInEntryIsRejected) {
  MetaTxn txn(log_->db(), MetaTxn::Mode::kReadWrite);
  proto::LogEntry entry;
  entry.mutable_mkdir()->set_path("/a/../b");
  EXPECT_EQ(state_machine_.Apply(entry, &txn).status.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(txn.empty());
}

}  // namespace
}  // namespace gfs::master
