// The namespace operations and their error cases, through the op log.
#include "master/namespace.h"

#include <set>

#include "tests/master/namespace_fixture.h"

namespace gfs::master {
namespace {

using NamespaceTest = NamespaceFixture;

std::vector<std::string> Names(Namespace* ns, const std::string& path) {
  proto::ListResponse resp;
  Status s = ns->List(path, "", 0, &resp);
  EXPECT_OK(s);
  std::vector<std::string> names;
  for (const auto& e : resp.entries()) names.push_back(e.name());
  return names;
}

TEST_F(NamespaceTest, RootExists) {
  auto root = ns_->Stat("/");
  ASSERT_OK(root);
  EXPECT_EQ(root->type(), proto::FILE_TYPE_DIRECTORY);
  EXPECT_TRUE(Names(ns_.get(), "/").empty());
}

TEST_F(NamespaceTest, MkdirAndErrors) {
  ASSERT_OK(ns_->Mkdir("/a", false));
  ASSERT_CODE(ns_->Mkdir("/a", false), StatusCode::kAlreadyExists);
  ASSERT_OK(ns_->Mkdir("/a", true));  // -p: exists is fine
  ASSERT_CODE(ns_->Mkdir("/x/y", false), StatusCode::kNotFound);
  ASSERT_CODE(ns_->Mkdir("/", false), StatusCode::kAlreadyExists);
  ASSERT_OK(ns_->Mkdir("/", true));
  auto deep = ns_->Mkdir("/x/y/z", true);
  ASSERT_OK(deep);
  EXPECT_EQ(deep->name(), "z");
  EXPECT_EQ(Names(ns_.get(), "/x/y"), std::vector<std::string>{"z"});
  ASSERT_OK(ns_->CreateFile("/a/f", 0, false));
  ASSERT_CODE(ns_->Mkdir("/a/f", true), StatusCode::kAlreadyExists);
  ASSERT_CODE(ns_->Mkdir("/a/f/g", true), StatusCode::kFailedPrecondition);
  Status bad = ns_->Mkdir("/a//b", false).status();
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("/a//b"), std::string::npos) << bad.ToString();
}

TEST_F(NamespaceTest, MkdirUpdatesParentMtime) {
  ASSERT_OK(ns_->Mkdir("/a", false));
  const int64_t before = ns_->Stat("/a")->mtime_us();
  clock_.Advance(5'000'000);
  ASSERT_OK(ns_->Mkdir("/a/b", false));
  EXPECT_EQ(ns_->Stat("/a")->mtime_us(), before + 5'000'000);
  EXPECT_EQ(ns_->Stat("/a/b")->mtime_us(), before + 5'000'000);
}

TEST_F(NamespaceTest, CreateFileAndErrors) {
  auto file = ns_->CreateFile("/f", 2, false);
  ASSERT_OK(file);
  EXPECT_EQ(file->type(), proto::FILE_TYPE_FILE);
  EXPECT_EQ(file->replication(), 2u);
  EXPECT_EQ(file->size(), 0u);
  EXPECT_EQ(file->chunk_size(), NamespaceOptions{}.chunk_size_bytes);
  EXPECT_EQ(ns_->CreateFile("/g", 0, false)->replication(), NamespaceOptions{}.default_replication);
  ASSERT_CODE(ns_->CreateFile("/f", 0, false), StatusCode::kAlreadyExists);
  auto again = ns_->CreateFile("/f", 0, true);  // touch
  ASSERT_OK(again);
  EXPECT_EQ(again->inode_id(), file->inode_id());
  ASSERT_CODE(ns_->CreateFile("/nodir/f", 0, false), StatusCode::kNotFound);
  ASSERT_CODE(ns_->CreateFile("/f/g", 0, false), StatusCode::kFailedPrecondition);
  ASSERT_OK(ns_->Mkdir("/d", false));
  ASSERT_CODE(ns_->CreateFile("/d", 0, true), StatusCode::kAlreadyExists);
  ASSERT_CODE(ns_->CreateFile("/", 0, false), StatusCode::kAlreadyExists);
  ASSERT_CODE(ns_->CreateFile("/r", 17, false), StatusCode::kInvalidArgument);
}

TEST_F(NamespaceTest, StatErrors) {
  Status missing = ns_->Stat("/nope").status();
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_NE(missing.message().find("/nope"), std::string::npos);
  ASSERT_OK(ns_->CreateFile("/f", 0, false));
  ASSERT_CODE(ns_->Stat("/f/x"), StatusCode::kFailedPrecondition);
  ASSERT_CODE(ns_->Stat("f"), StatusCode::kInvalidArgument);
}

TEST_F(NamespaceTest, ListIsSortedAndPaged) {
  ASSERT_OK(ns_->Mkdir("/d", false));
  std::set<std::string> expected;
  for (int i = 0; i < 25; ++i) {
    std::string name = "e" + std::to_string(i);
    expected.insert(name);
    ASSERT_OK(ns_->CreateFile("/d/" + name, 0, false));
  }
  std::vector<std::string> seen;
  std::string start_after;
  int pages = 0;
  while (true) {
    proto::ListResponse resp;
    ASSERT_OK(ns_->List("/d", start_after, 7, &resp));
    ++pages;
    ASSERT_LE(resp.entries_size(), 7);
    for (const auto& e : resp.entries()) seen.push_back(e.name());
    if (!resp.has_more()) break;
    start_after = resp.next_start_after();
  }
  EXPECT_EQ(pages, 4);
  EXPECT_EQ(seen, std::vector<std::string>(expected.begin(), expected.end()));
  // A file lists as itself; a missing path is NotFound.
  EXPECT_EQ(Names(ns_.get(), "/d/e3"), std::vector<std::string>{"e3"});
  proto::ListResponse resp;
  ASSERT_CODE(ns_->List("/missing", "", 0, &resp), StatusCode::kNotFound);
}

TEST_F(NamespaceTest, DeleteAndErrors) {
  ASSERT_OK(ns_->Mkdir("/a/b/c", true));
  ASSERT_OK(ns_->CreateFile("/a/b/c/f", 0, false));
  ASSERT_OK(ns_->CreateFile("/a/g", 0, false));
  ASSERT_CODE(ns_->Delete("/a", false), StatusCode::kFailedPrecondition);
  ASSERT_CODE(ns_->Delete("/", true), StatusCode::kInvalidArgument);
  ASSERT_CODE(ns_->Delete("/nope", false), StatusCode::kNotFound);
  ASSERT_OK(ns_->Delete("/a/g", false));
  ASSERT_CODE(ns_->Stat("/a/g"), StatusCode::kNotFound);
  ASSERT_OK(ns_->Delete("/a", true));
  ASSERT_CODE(ns_->Stat("/a"), StatusCode::kNotFound);
  EXPECT_TRUE(Names(ns_.get(), "/").empty());
  // Nothing of the subtree is left behind: recreating gives fresh, empty directories.
  ASSERT_OK(ns_->Mkdir("/a/b/c", true));
  EXPECT_TRUE(Names(ns_.get(), "/a/b/c").empty());
  ASSERT_OK(ns_->Mkdir("/e", false));
  ASSERT_OK(ns_->Delete("/e", false));  // empty directory needs no -r
}

TEST_F(NamespaceTest, RenameFilesAndDirectories) {
  ASSERT_OK(ns_->Mkdir("/a/b", true));
  ASSERT_OK(ns_->CreateFile("/a/b/f", 0, false));
  const uint64_t id = ns_->Stat("/a/b/f")->inode_id();
  ASSERT_OK(ns_->Rename("/a/b/f", "/g"));
  EXPECT_EQ(ns_->Stat("/g")->inode_id(), id);
  ASSERT_CODE(ns_->Stat("/a/b/f"), StatusCode::kNotFound);
  // A directory moves with its subtree.
  ASSERT_OK(ns_->Mkdir("/x", false));
  ASSERT_OK(ns_->Rename("/a", "/x/a2"));
  ASSERT_OK(ns_->Stat("/x/a2/b"));
  EXPECT_EQ(Names(ns_.get(), "/"), (std::vector<std::string>{"g", "x"}));
  ASSERT_OK(ns_->Rename("/g", "/g"));  // onto itself: nothing to do
}

TEST_F(NamespaceTest, RenameErrors) {
  ASSERT_OK(ns_->Mkdir("/a/b", true));
  ASSERT_OK(ns_->CreateFile("/f", 0, false));
  ASSERT_CODE(ns_->Rename("/a", "/a/b/c"), StatusCode::kInvalidArgument);
  ASSERT_CODE(ns_->Rename("/a", "/a/x"), StatusCode::kInvalidArgument);
  ASSERT_CODE(ns_->Rename("/f", "/a/b"), StatusCode::kAlreadyExists);
  ASSERT_CODE(ns_->Rename("/a", "/f"), StatusCode::kAlreadyExists);
  ASSERT_CODE(ns_->Rename("/nope", "/z"), StatusCode::kNotFound);
  ASSERT_CODE(ns_->Rename("/f", "/nodir/z"), StatusCode::kNotFound);
  ASSERT_CODE(ns_->Rename("/a", "/f/z"), StatusCode::kFailedPrecondition);
  ASSERT_CODE(ns_->Rename("/", "/z"), StatusCode::kInvalidArgument);
  ASSERT_CODE(ns_->Rename("/a", "/"), StatusCode::kInvalidArgument);
  // Nothing changed.
  ASSERT_OK(ns_->Stat("/a/b"));
  ASSERT_OK(ns_->Stat("/f"));
}

TEST_F(NamespaceTest, StateSurvivesReopen) {
  ASSERT_OK(ns_->Mkdir("/a/b", true));
  ASSERT_OK(ns_->CreateFile("/a/f", 2, false));
  ASSERT_OK(ns_->Rename("/a/b", "/b"));
  const proto::LogPosition before = log_->applied();
  Reopen();
  EXPECT_EQ(log_->applied().index(), before.index());
  ASSERT_OK(ns_->Stat("/b"));
  EXPECT_EQ(ns_->Stat("/a/f")->replication(), 2u);
  ASSERT_CODE(ns_->Stat("/a/b"), StatusCode::kNotFound);
  // Inode ids keep counting after a restart: no reuse.
  const uint64_t old_max = ns_->Stat("/a/f")->inode_id();
  EXPECT_GT(ns_->Mkdir("/c", false)->inode_id(), old_max);
}

TEST_F(NamespaceTest, DeleteMovesToTrashAndUndeleteBringsItBack) {
  ASSERT_OK(ns_->Mkdir("/d/sub", true));
  ASSERT_OK(ns_->CreateFile("/d/sub/f", 2, false));
  const uint64_t id = ns_->Stat("/d")->inode_id();
  ASSERT_OK(ns_->Delete("/d", true));
  ASSERT_CODE(ns_->Stat("/d"), StatusCode::kNotFound);
  EXPECT_TRUE(Names(ns_.get(), "/").empty());
  auto back = ns_->Undelete("/d");
  ASSERT_OK(back);
  EXPECT_EQ(back->inode_id(), id);
  EXPECT_EQ(ns_->Stat("/d/sub/f")->replication(), 2u);      // the whole subtree came back
  ASSERT_CODE(ns_->Undelete("/d"), StatusCode::kNotFound);  // nothing left in the trash
}

TEST_F(NamespaceTest, UndeleteBringsBackTheMostRecentAndChecksThePath) {
  ASSERT_OK(ns_->CreateFile("/f", 1, false));
  ASSERT_OK(ns_->Delete("/f", false));
  clock_.Advance(1000);
  ASSERT_OK(ns_->CreateFile("/f", 2, false));
  ASSERT_OK(ns_->Delete("/f", false));
  ASSERT_OK(ns_->CreateFile("/f", 3, false));
  // /f exists again: undelete refuses to clobber it.
  ASSERT_CODE(ns_->Undelete("/f"), StatusCode::kAlreadyExists);
  ASSERT_OK(ns_->Rename("/f", "/g"));
  EXPECT_EQ(ns_->Undelete("/f")->replication(), 2u);  // the newer of the two deletions
  ASSERT_OK(ns_->Rename("/f", "/h"));
  EXPECT_EQ(ns_->Undelete("/f")->replication(), 1u);
  // The parent must exist.
  ASSERT_OK(ns_->Mkdir("/p", false));
  ASSERT_OK(ns_->CreateFile("/p/x", 0, false));
  ASSERT_OK(ns_->Delete("/p", true));
  ASSERT_CODE(ns_->Undelete("/p/x"), StatusCode::kNotFound);
  ASSERT_CODE(ns_->Undelete("/never"), StatusCode::kNotFound);
  ASSERT_CODE(ns_->Undelete("bad"), StatusCode::kInvalidArgument);
}

TEST_F(NamespaceTest, SnapshotCopiesATreeWithNewInodes) {
  ASSERT_OK(ns_->Mkdir("/src/a/b", true));
  ASSERT_OK(ns_->CreateFile("/src/a/f", 2, false));
  ASSERT_OK(ns_->CreateFile("/src/g", 1, false));
  ASSERT_OK(ns_->Snapshot("/src", "/copy", {}));
  EXPECT_EQ(Names(ns_.get(), "/copy"), (std::vector<std::string>{"a", "g"}));
  EXPECT_EQ(Names(ns_.get(), "/copy/a"), (std::vector<std::string>{"b", "f"}));
  EXPECT_EQ(ns_->Stat("/copy/a/f")->replication(), 2u);
  EXPECT_NE(ns_->Stat("/copy/a/f")->inode_id(), ns_->Stat("/src/a/f")->inode_id());
  // The two trees are independent from now on.
  ASSERT_OK(ns_->Delete("/src/a", true));
  ASSERT_OK(ns_->Stat("/copy/a/b"));
  // A single file, too.
  ASSERT_OK(ns_->Snapshot("/src/g", "/g2", {}));
  EXPECT_EQ(ns_->Stat("/g2")->type(), proto::FILE_TYPE_FILE);
}

TEST_F(NamespaceTest, ExpiredTrashIsPurgedForGood) {
  ASSERT_OK(ns_->Mkdir("/old", false));
  ASSERT_OK(ns_->CreateFile("/old/f", 0, false));
  ASSERT_OK(ns_->Delete("/old", true));
  clock_.Advance(10'000'000);
  ASSERT_OK(ns_->CreateFile("/new", 0, false));
  ASSERT_OK(ns_->Delete("/new", false));
  // Retention 5 s: only /old, deleted 10 s ago, has expired.
  auto expired = ns_->ExpiredTrash(5'000'000, 100);
  ASSERT_OK(expired);
  ASSERT_EQ(expired->size(), 1u);
  EXPECT_EQ((*expired)[0].path(), "/old");
  ASSERT_OK(ns_->Purge((*expired)[0]));
  ASSERT_CODE(ns_->Purge((*expired)[0]), StatusCode::kNotFound);
  ASSERT_CODE(ns_->Undelete("/old"), StatusCode::kNotFound);
  ASSERT_OK(ns_->Undelete("/new"));
  // Purging left no inode behind: nothing but the root and /new remain.
  size_t inodes = 0;
  std::unique_ptr<rocksdb::Iterator> it(log_->db()->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek("i"); it->Valid() && it->key()[0] == 'i'; it->Next()) ++inodes;
  EXPECT_EQ(inodes, 2u);
}

}  // namespace
}  // namespace gfs::master
