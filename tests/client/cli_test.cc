// Tests of the `gfs` command-line tool against an in-memory namespace.
#include "client/cli.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "common/path.h"
#include "tests/test_util.h"

namespace gfs::cli {
namespace {

constexpr int64_t kMtimeUs = 1795780800LL * 1000000;  // 2026-11-27T12:00:00Z
constexpr char kMtime[] = "2026-11-27T12:00:00Z";

// The namespace the fake client works on; it outlives each client the CLI makes.
struct FakeTree {
  std::map<std::string, FileInfo> nodes;    // by full path
  std::map<std::string, std::string> data;  // file bytes, by full path (absent: empty)
  std::map<std::string, std::vector<ChunkLocation>> chunks;  // by full path
  std::map<std::string, FileInfo> trash;                     // deleted files, by path
  uint64_t next_inode = 2;
  int list_each_calls = 0;
  // When set, FileWriter::Write fails with it once this many bytes were written.
  Status write_error;
  uint64_t write_error_after = 0;

  FakeTree() {
    FileInfo root;
    root.type = FileType::kDirectory;
    root.inode_id = 1;
    root.mtime_us = kMtimeUs;
    nodes["/"] = root;
  }

  const FileInfo* Find(const std::string& path) const {
    auto it = nodes.find(path);
    return it == nodes.end() ? nullptr : &it->second;
  }

  // Full paths of the direct children of directory `dir`, in name order.
  std::vector<std::string> Children(const std::string& dir) const {
    const std::string prefix = dir == "/" ? "/" : dir + "/";
    std::vector<std::string> children;
    for (auto it = nodes.lower_bound(prefix);
         it != nodes.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
      if (it->first.size() > prefix.size() &&
          it->first.find('/', prefix.size()) == std::string::npos) {
        children.push_back(it->first);
      }
    }
    return children;
  }

  // Checks `path` and that its parent is an existing directory.
  Status CheckParent(const std::string& path) const {
    GFS_RETURN_IF_ERROR(ValidatePath(path));
    const std::string parent = ParentPath(path);
    const FileInfo* p = Find(parent);
    if (p == nullptr) return Status::NotFound("parent directory " + parent + " does not exist");
    if (!p->is_directory()) return Status::FailedPrecondition(parent + " is a file");
    return Status::OK();
  }

  FileInfo& Add(const std::string& path, FileType type, uint64_t size = 0) {
    FileInfo info;
    info.name = BaseName(path);
    info.type = type;
    info.inode_id = next_inode++;
    info.mtime_us = kMtimeUs;
    if (type == FileType::kFile) {
      info.replication = 3;
      info.chunk_size = 64 << 20;
      info.size = size;
    }
    return nodes[path] = info;
  }
};

// A FileWriter into FakeTree::data; bytes count (and the size grows) on Sync.
class FakeWriter : public FileWriter {
 public:
  FakeWriter(FakeTree* tree, std::string path, uint64_t offset)
      : tree_(tree), path_(std::move(path)), position_(offset) {}

  Status Write(std::string_view data) override {
    if (closed_) return Status::FailedPrecondition("closed");
    if (!tree_->write_error.ok() && written_ + data.size() > tree_->write_error_after) {
      return Status(tree_->write_error.code(), "write " + path_ + " at offset " +
                                                   std::to_string(position_) + ": " +
                                                   tree_->write_error.message());
    }
    pending_.emplace_back(position_, std::string(data));
    position_ += data.size();
    written_ += data.size();
    return Status::OK();
  }

  Status Sync() override {
    if (closed_) return Status::FailedPrecondition("closed");
    FileInfo* info = &tree_->nodes.at(path_);
    std::string& bytes = tree_->data[path_];
    for (const auto& [offset, piece] : pending_) {
      if (bytes.size() < offset + piece.size()) bytes.resize(offset + piece.size(), '\0');
      bytes.replace(offset, piece.size(), piece);
    }
    pending_.clear();
    info->size = bytes.size();
    return Status::OK();
  }

  Status Close() override {
    if (closed_) return Status::OK();
    const Status s = Sync();
    closed_ = true;
    return s;
  }

  uint64_t position() const override { return position_; }

 private:
  FakeTree* const tree_;
  const std::string path_;
  uint64_t position_;
  uint64_t written_ = 0;
  std::vector<std::pair<uint64_t, std::string>> pending_;
  bool closed_ = false;
};

// A FileReader of a copy of FakeTree::data taken at open.
class FakeReader : public FileReader {
 public:
  explicit FakeReader(std::string data) : data_(std::move(data)) {}

  Result<size_t> Read(char* buf, size_t n) override {
    GFS_ASSIGN_OR_RETURN(size_t got, ReadAt(position_, buf, n));
    position_ += got;
    return got;
  }
  Result<size_t> ReadAt(uint64_t offset, char* buf, size_t n) override {
    if (offset >= data_.size()) return size_t{0};
    n = std::min<size_t>(n, data_.size() - offset);
    memcpy(buf, data_.data() + offset, n);
    return n;
  }
  uint64_t size() const override { return data_.size(); }

 private:
  const std::string data_;
  uint64_t position_ = 0;
};

// A gfs::Client over a FakeTree. List and ListPage fail on purpose: the CLI must stream
// with ListEach.
class FakeClient : public Client {
 public:
  explicit FakeClient(FakeTree* tree) : tree_(tree) {}

  Result<MasterPosition> Ping() override { return MasterPosition{1, 1}; }
  Result<MasterStatus> GetMasterStatus() override { return MasterStatus{}; }
  Result<std::vector<ChunkServerInfo>> ListChunkServers() override {
    ChunkServerInfo live{"10.0.0.1:7001", "r1", true, 12, 1000, 50000, 120};
    ChunkServerInfo dead{"10.0.0.2:7001", "r2", false, 0, 0, 50000, 20000};
    return std::vector<ChunkServerInfo>{live, dead};
  }

  Status Mkdir(const std::string& path, bool parents) override {
    GFS_RETURN_IF_ERROR(ValidatePath(path));
    if (const FileInfo* existing = tree_->Find(path)) {
      if (parents && existing->is_directory()) return Status::OK();
      return Status::AlreadyExists(path + " already exists");
    }
    if (parents && !tree_->Find(ParentPath(path))) {
      GFS_RETURN_IF_ERROR(Mkdir(ParentPath(path), true));
    }
    GFS_RETURN_IF_ERROR(tree_->CheckParent(path));
    tree_->Add(path, FileType::kDirectory);
    return Status::OK();
  }

  Result<FileInfo> CreateFile(const std::string& path, uint32_t replication,
                              bool ok_if_exists) override {
    GFS_RETURN_IF_ERROR(ValidatePath(path));
    if (const FileInfo* existing = tree_->Find(path)) {
      if (ok_if_exists && !existing->is_directory()) return *existing;
      return Status::AlreadyExists(path + " already exists");
    }
    GFS_RETURN_IF_ERROR(tree_->CheckParent(path));
    FileInfo& info = tree_->Add(path, FileType::kFile);
    if (replication != 0) info.replication = replication;
    return info;
  }

  Result<FileInfo> Stat(const std::string& path) override {
    GFS_RETURN_IF_ERROR(ValidatePath(path));
    const FileInfo* info = tree_->Find(path);
    if (info == nullptr) return Status::NotFound(path + " does not exist");
    return *info;
  }

  Result<DirectoryPage> ListPage(const std::string&, const std::string&, uint32_t) override {
    return Status::Internal("the CLI must use ListEach");
  }

  Status ListEach(const std::string& path,
                  const std::function<bool(const FileInfo&)>& fn) override {
    ++tree_->list_each_calls;
    GFS_ASSIGN_OR_RETURN(FileInfo info, Stat(path));
    if (!info.is_directory()) {
      fn(info);
      return Status::OK();
    }
    for (const std::string& child : tree_->Children(path)) {
      if (!fn(*tree_->Find(child))) break;
    }
    return Status::OK();
  }

  Result<std::vector<FileInfo>> List(const std::string&) override {
    return Status::Internal("the CLI must use ListEach");
  }

  Status Delete(const std::string& path, bool recursive) override {
    GFS_RETURN_IF_ERROR(ValidatePath(path));
    if (path == "/") return Status::InvalidArgument("cannot delete /");
    if (!tree_->Find(path)) return Status::NotFound(path + " does not exist");
    if (!tree_->Children(path).empty() && !recursive) {
      return Status::FailedPrecondition("directory " + path + " is not empty");
    }
    tree_->trash[path] = *tree_->Find(path);  // the fake brings back only the top entry
    for (auto it = tree_->nodes.begin(); it != tree_->nodes.end();) {
      it = IsSameOrUnder(it->first, path) ? tree_->nodes.erase(it) : std::next(it);
    }
    for (auto it = tree_->data.begin(); it != tree_->data.end();) {
      it = IsSameOrUnder(it->first, path) ? tree_->data.erase(it) : std::next(it);
    }
    return Status::OK();
  }

  Status Rename(const std::string& src, const std::string& dst) override {
    GFS_RETURN_IF_ERROR(ValidatePath(src));
    if (!tree_->Find(src)) return Status::NotFound(src + " does not exist");
    if (tree_->Find(dst)) return Status::AlreadyExists(dst + " already exists");
    GFS_RETURN_IF_ERROR(tree_->CheckParent(dst));
    if (IsSameOrUnder(dst, src)) return Status::InvalidArgument("cannot move into itself");
    std::map<std::string, FileInfo> moved;
    for (auto it = tree_->nodes.begin(); it != tree_->nodes.end();) {
      if (IsSameOrUnder(it->first, src)) {
        moved[dst + it->first.substr(src.size())] = it->second;
        it = tree_->nodes.erase(it);
      } else {
        ++it;
      }
    }
    moved[dst].name = BaseName(dst);
    tree_->nodes.insert(moved.begin(), moved.end());
    return Status::OK();
  }

  Result<std::vector<ChunkLocation>> GetChunkLocations(const std::string& path) override {
    GFS_ASSIGN_OR_RETURN(FileInfo info, Stat(path));
    if (info.is_directory()) return Status::FailedPrecondition(path + " is a directory");
    return tree_->chunks[path];
  }

  Result<std::unique_ptr<FileWriter>> Create(const std::string& path, uint32_t replication,
                                             bool overwrite) override {
    if (const FileInfo* existing = tree_->Find(path); existing != nullptr && overwrite) {
      if (existing->is_directory()) return Status::AlreadyExists(path + " is a directory");
      GFS_RETURN_IF_ERROR(Delete(path, false));
    }
    GFS_RETURN_IF_ERROR(CreateFile(path, replication, false).status());
    return std::unique_ptr<FileWriter>(new FakeWriter(tree_, path, 0));
  }

  Result<std::unique_ptr<FileWriter>> OpenForWrite(const std::string& path,
                                                   uint64_t offset) override {
    GFS_ASSIGN_OR_RETURN(FileInfo info, Stat(path));
    if (info.is_directory()) return Status::FailedPrecondition(path + " is a directory");
    return std::unique_ptr<FileWriter>(new FakeWriter(tree_, path, offset));
  }

  Result<std::unique_ptr<FileReader>> Open(const std::string& path) override {
    GFS_ASSIGN_OR_RETURN(FileInfo info, Stat(path));
    if (info.is_directory()) return Status::FailedPrecondition(path + " is a directory");
    return std::unique_ptr<FileReader>(new FakeReader(tree_->data[path]));
  }

  Status Snapshot(const std::string& src, const std::string& dst) override {
    if (!tree_->Find(src)) return Status::NotFound(src + " does not exist");
    if (tree_->Find(dst)) return Status::AlreadyExists(dst + " already exists");
    GFS_RETURN_IF_ERROR(tree_->CheckParent(dst));
    std::map<std::string, FileInfo> copies;
    for (const auto& [path, info] : tree_->nodes) {
      if (IsSameOrUnder(path, src)) copies[dst + path.substr(src.size())] = info;
    }
    for (const auto& [path, info] : copies) {
      tree_->nodes[path] = info;
      tree_->data[path] = tree_->data[src + path.substr(dst.size())];
    }
    return Status::OK();
  }

  Status Undelete(const std::string& path) override {
    auto it = tree_->trash.find(path);
    if (it == tree_->trash.end()) return Status::NotFound("nothing deleted at " + path);
    if (tree_->Find(path) != nullptr) return Status::AlreadyExists(path + " exists");
    tree_->nodes[path] = it->second;
    tree_->trash.erase(it);
    return Status::OK();
  }

  Result<uint64_t> Append(const std::string& path, std::string_view record) override {
    GFS_ASSIGN_OR_RETURN(FileInfo info, Stat(path));
    if (info.is_directory()) return Status::FailedPrecondition(path + " is a directory");
    std::string& data = tree_->data[path];
    const uint64_t offset = data.size();
    data.append(record);
    tree_->nodes[path].size = data.size();
    return offset;
  }

 private:
  FakeTree* const tree_;
};

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override { unsetenv("GFS_MASTER"); }
  void TearDown() override { unsetenv("GFS_MASTER"); }

  // Runs the tool with `input` as its standard input; its output lands in out_ and err_.
  int Run(const std::vector<std::string>& args, const std::string& input = "") {
    out_.str("");
    err_.str("");
    std::istringstream in(input);
    return RunCli(args, in, out_, err_, [this](const std::string& masters) {
      ++factory_calls_;
      masters_ = masters;
      if (!factory_status_.ok()) return Result<std::unique_ptr<Client>>(factory_status_);
      return Result<std::unique_ptr<Client>>(std::make_unique<FakeClient>(&tree_));
    });
  }

  std::string out() const { return out_.str(); }
  std::string err() const { return err_.str(); }
  // How many lines the last run wrote to out.
  int64_t OutputLines() const {
    const std::string text = out();
    return std::count(text.begin(), text.end(), '\n');
  }

  FakeTree tree_;
  Status factory_status_;
  int factory_calls_ = 0;
  std::string masters_;

 private:
  std::ostringstream out_;
  std::ostringstream err_;
};

// ---- Usage errors and help ----

TEST_F(CliTest, UsageErrorsExit2WithUsageLine) {
  const std::vector<std::vector<std::string>> cases = {
      {},                // no command
      {"frobnicate"},    // unknown command
      {"--frob", "ls"},  // unknown global option
      {"--master"},      // global option without its value
      {"mkdir"},         // missing operand
      {"rm"},
      {"touch"},
      {"mv", "/a"},
      {"mv", "/a", "/b", "/c"},  // too many operands
      {"stat"},
      {"stat", "/a", "/b"},
      {"ls", "/a", "/b"},
      {"ls", "-x"},  // unknown flags
      {"ls", "-lz", "/"},
      {"ls", "--long=yes"},
      {"mkdir", "--frob", "/a"},
      {"rm", "-p", "/a"},
      {"stat", "-j", "/a"},
      {"help", "frobnicate"},
      {"put"},
      {"put", "/a"},
      {"put", "a", "/b", "/c"},
      {"put", "-r", "a", "/b"},  // -r takes a number
      {"put", "-r", "0", "a", "/b"},
      {"put", "-r2x", "a", "/b"},
      {"put", "a", "/b", "-r"},  // -r without its value
      {"put", "--replication", "a", "/b"},
      {"put", "--force=yes", "a", "/b"},
      {"put", "-x", "a", "/b"},
      {"get", "/a"},
      {"get", "/a", "b", "c"},
      {"get", "-r", "/a", "b"},
      {"cat"},
  };
  for (const auto& args : cases) {
    SCOPED_TRACE(::testing::PrintToString(args));
    EXPECT_EQ(Run(args), kExitUsage);
    EXPECT_EQ(err().rfind("gfs: ", 0), 0u) << err();
    EXPECT_NE(err().find("\nusage: gfs "), std::string::npos) << err();
    EXPECT_EQ(out(), "");
  }
  EXPECT_EQ(factory_calls_, 0);
}

TEST_F(CliTest, UsageErrorNamesTheProblem) {
  EXPECT_EQ(Run({"ls", "-lx", "/"}), kExitUsage);
  EXPECT_EQ(err(), "gfs: ls: unknown option -x\nusage: gfs ls [-l] [-R] [PATH]\n");
  EXPECT_EQ(Run({"frobnicate"}), kExitUsage);
  EXPECT_NE(err().find("unknown command 'frobnicate'"), std::string::npos) << err();
}

TEST_F(CliTest, ToolHelpListsImplementedCommands) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"--help"}, {"-h"}, {"help"}, {"--master=x:1", "-h"}}) {
    SCOPED_TRACE(::testing::PrintToString(args));
    EXPECT_EQ(Run(args), kExitOk);
    EXPECT_EQ(out().rfind("usage: gfs [--master=HOST:PORT[,...]] COMMAND [ARGS]\n", 0), 0u);
    for (const char* cmd : {"ls", "mkdir", "touch", "rm", "mv", "stat", "put", "get", "cat",
                            "append", "undelete", "snapshot", "admin"}) {
      EXPECT_NE(out().find(std::string("\n  ") + cmd + " "), std::string::npos) << cmd;
    }
    EXPECT_EQ(err(), "");
  }
  EXPECT_EQ(factory_calls_, 0);
}

TEST_F(CliTest, CommandHelpPrintsItsUsage) {
  for (const char* cmd : {"ls", "mkdir", "touch", "rm", "mv", "stat", "put", "get", "cat"}) {
    SCOPED_TRACE(cmd);
    EXPECT_EQ(Run({cmd, "--help"}), kExitOk);
    EXPECT_EQ(out().rfind(std::string("usage: gfs ") + cmd + " ", 0), 0u) << out();
    EXPECT_EQ(err(), "");
    const std::string help = out();
    EXPECT_EQ(Run({"help", cmd}), kExitOk);
    EXPECT_EQ(out(), help);
  }
  // --help wins wherever it stands and whatever else is wrong.
  EXPECT_EQ(Run({"ls", "-x", "/a", "/b", "--help"}), kExitOk);
  EXPECT_NE(out().find("-R, --recursive"), std::string::npos) << out();
  EXPECT_EQ(Run({"mkdir", "--help"}), kExitOk);
  EXPECT_NE(out().find("-p, --parents"), std::string::npos) << out();
  EXPECT_EQ(Run({"stat", "--help"}), kExitOk);
  EXPECT_NE(out().find("--json"), std::string::npos) << out();
  EXPECT_EQ(Run({"put", "--help"}), kExitOk);
  EXPECT_NE(out().find("-r, --replication=N"), std::string::npos) << out();
  EXPECT_NE(out().find("-f, --force"), std::string::npos) << out();
  EXPECT_EQ(factory_calls_, 0);
}

TEST_F(CliTest, AdminReportListsChunkservers) {
  ASSERT_EQ(Run({"admin", "report"}), kExitOk) << err();
  EXPECT_NE(out().find("10.0.0.1:7001"), std::string::npos) << out();
  EXPECT_NE(out().find("live"), std::string::npos) << out();
  EXPECT_NE(out().find("dead"), std::string::npos) << out();
  EXPECT_NE(out().find("2 chunkservers, 1 live"), std::string::npos) << out();
  EXPECT_EQ(Run({"admin", "nonsense"}), kExitUsage);
  EXPECT_EQ(Run({"admin"}), kExitUsage);
}

TEST_F(CliTest, AdminFsckReportsMissingAndUnderReplicatedChunks) {
  ASSERT_EQ(Run({"mkdir", "-p", "/d/e"}), kExitOk) << err();
  ASSERT_EQ(Run({"touch", "/d/e/f", "/d/g"}), kExitOk) << err();
  tree_.nodes["/d/e/f"].replication = 3;
  tree_.nodes["/d/g"].replication = 2;
  tree_.chunks["/d/e/f"] = {ChunkLocation{0, 11, 1, {"a:1", "b:1", "c:1"}, "", {}},
                            ChunkLocation{1, 12, 1, {"a:1"}, "", {"b:1"}}};
  tree_.chunks["/d/g"] = {ChunkLocation{0, 13, 1, {"a:1", "b:1"}, "", {}}};
  ASSERT_EQ(Run({"admin", "fsck", "/d"}), kExitOk) << err();
  EXPECT_NE(out().find("UNDER-REPLICATED /d/e/f chunk 1 (handle 12): 1 of 3"), std::string::npos)
      << out();
  EXPECT_NE(out().find("CORRUPT /d/e/f chunk 1 (handle 12) on b:1"), std::string::npos) << out();
  EXPECT_NE(out().find("2 files, 3 chunks, 0 missing, 1 under-replicated, 1 corrupt replicas: "
                       "HEALTHY"),
            std::string::npos)
      << out();
  // A chunk without any live replica is missing data: exit status 1.
  tree_.chunks["/d/g"][0].replicas.clear();
  EXPECT_EQ(Run({"admin", "fsck"}), kExitFailed);
  EXPECT_NE(out().find("MISSING /d/g chunk 0 (handle 13): no live replica"), std::string::npos)
      << out();
  EXPECT_NE(out().find("DATA MISSING"), std::string::npos) << out();
  EXPECT_EQ(Run({"admin", "fsck", "/nope"}), kExitFailed);
}

// ---- Master address ----

TEST_F(CliTest, MasterFromFlagThenEnvironmentThenDefault) {
  ASSERT_EQ(Run({"ls"}), kExitOk);
  EXPECT_EQ(masters_, "127.0.0.1:7000");
  setenv("GFS_MASTER", "env:1", 1);
  ASSERT_EQ(Run({"ls"}), kExitOk);
  EXPECT_EQ(masters_, "env:1");
  ASSERT_EQ(Run({"--master=a:1,b:2", "ls"}), kExitOk);
  EXPECT_EQ(masters_, "a:1,b:2");
  ASSERT_EQ(Run({"--master", "c:3", "ls"}), kExitOk);
  EXPECT_EQ(masters_, "c:3");
}

TEST_F(CliTest, ClientCreationFailure) {
  factory_status_ = Status::InvalidArgument("empty master address");
  EXPECT_EQ(Run({"--master=nonsense", "ls"}), kExitUsage);
  EXPECT_EQ(err().rfind("gfs: master ", 0), 0u) << err();
  EXPECT_NE(err().find("InvalidArgument: empty master address"), std::string::npos) << err();
  factory_status_ = Status::Unavailable("no route");
  EXPECT_EQ(Run({"ls"}), kExitFailed);
}

// ---- mkdir, touch, rm, mv ----

TEST_F(CliTest, MkdirWithoutParentFailsNamingThePath) {
  EXPECT_EQ(Run({"mkdir", "/a/b"}), kExitFailed);
  EXPECT_EQ(err(), "gfs: mkdir /a/b: NotFound: parent directory /a does not exist\n");
  EXPECT_EQ(out(), "");
}

TEST_F(CliTest, MkdirParents) {
  ASSERT_EQ(Run({"mkdir", "-p", "/a/b/c"}), kExitOk) << err();
  ASSERT_NE(tree_.Find("/a/b/c"), nullptr);
  EXPECT_TRUE(tree_.Find("/a/b/c")->is_directory());
  EXPECT_EQ(Run({"mkdir", "/a/b/c", "-p"}), kExitOk) << err();  // exists: fine with -p
  EXPECT_EQ(Run({"mkdir", "/a/b/c"}), kExitFailed);
  EXPECT_EQ(err(), "gfs: mkdir /a/b/c: AlreadyExists: /a/b/c already exists\n");
}

TEST_F(CliTest, MkdirGoesOnAfterAFailedPath) {
  EXPECT_EQ(Run({"mkdir", "/x/y", "/z", "relative"}), kExitFailed);
  EXPECT_NE(tree_.Find("/z"), nullptr);
  EXPECT_NE(err().find("gfs: mkdir /x/y: NotFound"), std::string::npos) << err();
  EXPECT_NE(err().find("gfs: mkdir relative: InvalidArgument"), std::string::npos) << err();
}

TEST_F(CliTest, TouchCreatesAndAcceptsExistingFiles) {
  ASSERT_EQ(Run({"touch", "/f", "/g"}), kExitOk) << err();
  ASSERT_NE(tree_.Find("/f"), nullptr);
  EXPECT_FALSE(tree_.Find("/f")->is_directory());
  EXPECT_EQ(Run({"touch", "/f"}), kExitOk) << err();
  EXPECT_EQ(err(), "");
  ASSERT_EQ(Run({"mkdir", "/d"}), kExitOk);
  EXPECT_EQ(Run({"touch", "/d"}), kExitFailed);  // a directory is not a file
  EXPECT_EQ(err().rfind("gfs: touch /d: AlreadyExists", 0), 0u) << err();
}

TEST_F(CliTest, RmNonEmptyDirectoryNeedsRecursive) {
  ASSERT_EQ(Run({"mkdir", "-p", "/d/e"}), kExitOk);
  ASSERT_EQ(Run({"touch", "/d/e/f"}), kExitOk);
  EXPECT_EQ(Run({"rm", "/d"}), kExitFailed);
  EXPECT_EQ(err(), "gfs: rm /d: FailedPrecondition: directory /d is not empty\n");
  EXPECT_NE(tree_.Find("/d/e/f"), nullptr);
  EXPECT_EQ(Run({"rm", "-r", "/d"}), kExitOk) << err();
  EXPECT_EQ(tree_.Find("/d"), nullptr);
  EXPECT_EQ(tree_.Find("/d/e/f"), nullptr);
}

TEST_F(CliTest, RmFileAndMissingPath) {
  ASSERT_EQ(Run({"touch", "/f"}), kExitOk);
  EXPECT_EQ(Run({"rm", "/nope", "/f"}), kExitFailed);
  EXPECT_EQ(err(), "gfs: rm /nope: NotFound: /nope does not exist\n");
  EXPECT_EQ(tree_.Find("/f"), nullptr);
}

TEST_F(CliTest, DoubleDashEndsOptions) {
  // After `--`, "-r" is a path (which the master rejects), not the recursive flag.
  EXPECT_EQ(Run({"rm", "--", "-r"}), kExitFailed);
  EXPECT_EQ(err().rfind("gfs: rm -r: InvalidArgument", 0), 0u) << err();
  ASSERT_EQ(Run({"mkdir", "/d"}), kExitOk);
  EXPECT_EQ(Run({"ls", "-l", "--", "/d"}), kExitOk) << err();
}

TEST_F(CliTest, Mv) {
  ASSERT_EQ(Run({"mkdir", "/d"}), kExitOk);
  ASSERT_EQ(Run({"touch", "/d/f"}), kExitOk);
  ASSERT_EQ(Run({"mv", "/d", "/e"}), kExitOk) << err();
  EXPECT_EQ(tree_.Find("/d"), nullptr);
  EXPECT_NE(tree_.Find("/e/f"), nullptr);
  EXPECT_EQ(Run({"mv", "/missing", "/x"}), kExitFailed);
  EXPECT_EQ(err(), "gfs: mv /missing /x: NotFound: /missing does not exist\n");
  ASSERT_EQ(Run({"touch", "/g"}), kExitOk);
  EXPECT_EQ(Run({"mv", "/g", "/e/f"}), kExitFailed);
  EXPECT_EQ(err(), "gfs: mv /g /e/f: AlreadyExists: /e/f already exists\n");
}

// ---- ls ----

class CliLsTest : public CliTest {
 protected:
  // /data/            (dir)
  // /data/a.log       (file, 10 bytes)
  // /data/old/        (dir)
  // /data/old/b.log   (file, 1048576 bytes)
  // /empty/           (dir)
  // /readme           (file, 0 bytes)
  void SetUp() override {
    CliTest::SetUp();
    tree_.Add("/data", FileType::kDirectory);
    tree_.Add("/data/a.log", FileType::kFile, 10);
    tree_.Add("/data/old", FileType::kDirectory);
    tree_.Add("/data/old/b.log", FileType::kFile, 1048576).replication = 2;
    tree_.Add("/empty", FileType::kDirectory);
    tree_.Add("/readme", FileType::kFile);
  }
};

TEST_F(CliLsTest, PlainListsNamesWithSlashForDirectories) {
  ASSERT_EQ(Run({"ls"}), kExitOk) << err();
  EXPECT_EQ(out(), "data/\nempty/\nreadme\n");
  ASSERT_EQ(Run({"ls", "/"}), kExitOk) << err();
  EXPECT_EQ(out(), "data/\nempty/\nreadme\n");
  ASSERT_EQ(Run({"ls", "/data/"}), kExitOk) << err();  // a trailing '/' is accepted
  EXPECT_EQ(out(), "a.log\nold/\n");
  ASSERT_EQ(Run({"ls", "/empty"}), kExitOk) << err();
  EXPECT_EQ(out(), "");
}

TEST_F(CliLsTest, FileListsJustItself) {
  ASSERT_EQ(Run({"ls", "/data/a.log"}), kExitOk) << err();
  EXPECT_EQ(out(), "/data/a.log\n");
  ASSERT_EQ(Run({"ls", "-l", "/data/a.log"}), kExitOk) << err();
  EXPECT_EQ(out(), std::string("-   3           10 ") + kMtime + " /data/a.log\n");
}

TEST_F(CliLsTest, LongFormat) {
  ASSERT_EQ(Run({"ls", "-l", "/data"}), kExitOk) << err();
  EXPECT_EQ(out(), std::string("-   3           10 ") + kMtime + " a.log\n" +
                       "d   -            0 " + kMtime + " old\n");
}

TEST_F(CliLsTest, Recursive) {
  const std::string expected =
      "/:\n"
      "data/\nempty/\nreadme\n"
      "\n/data:\n"
      "a.log\nold/\n"
      "\n/data/old:\n"
      "b.log\n"
      "\n/empty:\n";
  ASSERT_EQ(Run({"ls", "-R"}), kExitOk) << err();
  EXPECT_EQ(out(), expected);
  EXPECT_EQ(tree_.list_each_calls, 4);

  ASSERT_EQ(Run({"ls", "-R", "/data/old"}), kExitOk) << err();
  EXPECT_EQ(out(), "/data/old:\nb.log\n");
}

TEST_F(CliLsTest, CombinedFlagsInAnyPosition) {
  ASSERT_EQ(Run({"ls", "-lR", "/data"}), kExitOk) << err();
  const std::string expected = out();
  EXPECT_EQ(expected, std::string("/data:\n") + "-   3           10 " + kMtime + " a.log\n" +
                          "d   -            0 " + kMtime + " old\n" + "\n/data/old:\n" +
                          "-   2      1048576 " + kMtime + " b.log\n");
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"ls", "/data", "-Rl"},
                                             {"ls", "-l", "/data", "-R"},
                                             {"ls", "--long", "--recursive", "/data"}}) {
    SCOPED_TRACE(::testing::PrintToString(args));
    ASSERT_EQ(Run(args), kExitOk) << err();
    EXPECT_EQ(out(), expected);
  }
}

TEST_F(CliLsTest, MissingPathFails) {
  EXPECT_EQ(Run({"ls", "-l", "/nope"}), kExitFailed);
  EXPECT_EQ(err(), "gfs: ls /nope: NotFound: /nope does not exist\n");
  EXPECT_EQ(out(), "");
}

TEST_F(CliLsTest, StreamsLargeDirectories) {
  for (int i = 0; i < 5000; ++i) tree_.Add("/empty/f" + std::to_string(10000 + i), FileType::kFile);
  ASSERT_EQ(Run({"ls", "/empty"}), kExitOk) << err();
  EXPECT_EQ(OutputLines(), 5000);
  EXPECT_EQ(out().rfind("f10000\nf10001\n", 0), 0u);
}

// ---- stat ----

// Parses `json` as one JSON object, failing the test if it is not.
google::protobuf::Struct ParseJsonObject(const std::string& json) {
  google::protobuf::Struct object;
  const auto status = google::protobuf::util::JsonStringToMessage(json, &object);
  EXPECT_TRUE(status.ok()) << status.ToString() << " in: " << json;
  return object;
}

TEST_F(CliLsTest, StatText) {
  ASSERT_EQ(Run({"stat", "/data/old/b.log"}), kExitOk) << err();
  EXPECT_EQ(out(), std::string("path: /data/old/b.log\n") + "type: file\n" + "size: 1048576\n" +
                       "replication: 2\n" + "chunk_size: 67108864\n" + "mtime: " + kMtime + "\n" +
                       "inode: 5\n");
  ASSERT_EQ(Run({"stat", "/data"}), kExitOk) << err();
  EXPECT_EQ(out(), std::string("path: /data\ntype: dir\nmtime: ") + kMtime + "\ninode: 2\n");
  EXPECT_EQ(Run({"stat", "/nope"}), kExitFailed);
  EXPECT_EQ(err(), "gfs: stat /nope: NotFound: /nope does not exist\n");
}

TEST_F(CliLsTest, StatJsonOfAFile) {
  ASSERT_EQ(Run({"stat", "--json", "/data/old/b.log"}), kExitOk) << err();
  ASSERT_EQ(out().back(), '\n');
  EXPECT_EQ(OutputLines(), 1) << "one line: " << out();
  const google::protobuf::Struct json = ParseJsonObject(out());
  const auto& f = json.fields();
  ASSERT_TRUE(f.count("path") && f.count("type") && f.count("size") && f.count("replication") &&
              f.count("chunks") && f.count("mtime"))
      << out();
  EXPECT_EQ(f.at("path").string_value(), "/data/old/b.log");
  EXPECT_EQ(f.at("type").string_value(), "file");
  EXPECT_EQ(f.at("size").number_value(), 1048576);
  EXPECT_EQ(f.at("replication").number_value(), 2);
  EXPECT_EQ(f.at("mtime").string_value(), kMtime);
  ASSERT_TRUE(f.at("chunks").has_list_value()) << out();
  EXPECT_EQ(f.at("chunks").list_value().values_size(), 0);
}

TEST_F(CliLsTest, StatJsonOfADirectory) {
  ASSERT_EQ(Run({"stat", "/", "--json"}), kExitOk) << err();
  const google::protobuf::Struct json = ParseJsonObject(out());
  EXPECT_EQ(json.fields().at("path").string_value(), "/");
  EXPECT_EQ(json.fields().at("type").string_value(), "dir");
  EXPECT_TRUE(json.fields().at("chunks").has_list_value());
}

TEST_F(CliLsTest, StatJsonEscapesStrings) {
  // Quote, backslash, control characters, valid UTF-8 and a byte that is not UTF-8.
  const std::string name = std::string("/q\"b\\n\nt\tc\x01\x1f-\xc3\xa9-\xff-\xe2\x82");
  tree_.Add(name, FileType::kFile);
  ASSERT_EQ(Run({"stat", "--json", name}), kExitOk) << err();
  EXPECT_EQ(OutputLines(), 1) << "one line: " << out();
  EXPECT_NE(out().find(R"("/q\"b\\n\nt\tc\u0001\u001f-)"), std::string::npos) << out();
  const google::protobuf::Struct json = ParseJsonObject(out());
  EXPECT_EQ(json.fields().at("path").string_value(),
            "/q\"b\\n\nt\tc\x01\x1f-\xc3\xa9-\xef\xbf\xbd-\xef\xbf\xbd\xef\xbf\xbd");
}

TEST_F(CliLsTest, StatListsChunks) {
  ChunkLocation c0;
  c0.index = 0;
  c0.handle = 0x1f;
  c0.version = 3;
  c0.replicas = {"10.0.0.1:7001", "10.0.0.2:7001"};
  c0.primary = "10.0.0.2:7001";
  ChunkLocation c2;
  c2.index = 2;
  c2.handle = 0x20;
  c2.version = 1;
  c2.replicas = {"10.0.0.3:7001"};
  tree_.chunks["/data/a.log"] = {c0, c2};

  ASSERT_EQ(Run({"stat", "/data/a.log"}), kExitOk) << err();
  EXPECT_NE(out().find("\nchunk 0: handle 0x000000000000001f version 3 replicas "
                       "10.0.0.1:7001,10.0.0.2:7001 primary 10.0.0.2:7001\n"
                       "chunk 2: handle 0x0000000000000020 version 1 replicas 10.0.0.3:7001 "
                       "primary -\n"),
            std::string::npos)
      << out();

  ASSERT_EQ(Run({"stat", "--json", "/data/a.log"}), kExitOk) << err();
  EXPECT_EQ(OutputLines(), 1) << out();
  const google::protobuf::Struct json = ParseJsonObject(out());
  const auto& chunks = json.fields().at("chunks").list_value();
  ASSERT_EQ(chunks.values_size(), 2) << out();
  const auto& first = chunks.values(0).struct_value().fields();
  EXPECT_EQ(first.at("index").number_value(), 0);
  EXPECT_EQ(first.at("handle").number_value(), 0x1f);
  EXPECT_EQ(first.at("version").number_value(), 3);
  ASSERT_EQ(first.at("replicas").list_value().values_size(), 2);
  EXPECT_EQ(first.at("replicas").list_value().values(1).string_value(), "10.0.0.2:7001");
  EXPECT_EQ(first.at("primary").string_value(), "10.0.0.2:7001");
  const auto& second = chunks.values(1).struct_value().fields();
  EXPECT_EQ(second.at("index").number_value(), 2);
  EXPECT_EQ(second.at("primary").string_value(), "");
}

// ---- put, get, cat ----

class CliDataTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    std::string tmpl = std::filesystem::temp_directory_path().string() + "/gfs-cli-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    CliTest::TearDown();
  }

  // A local file under the test's directory holding `content`; returns its path.
  std::string LocalFile(const std::string& name, const std::string& content) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  static std::string ReadLocal(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  // Bytes of every value, including NULs.
  static std::string Binary(size_t n) {
    std::string s(n, '\0');
    for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + i / 7) & 0xff);
    return s;
  }

  std::string dir_;
};

TEST_F(CliDataTest, PutLocalFileThenGetAndCat) {
  const std::string content = Binary(3 << 20);
  const std::string local = LocalFile("in", content);
  ASSERT_EQ(Run({"put", local, "/f"}), kExitOk) << err();
  EXPECT_EQ(out(), "");
  EXPECT_EQ(err(), "");
  ASSERT_NE(tree_.Find("/f"), nullptr);
  EXPECT_EQ(tree_.Find("/f")->size, content.size());
  EXPECT_EQ(tree_.data["/f"], content);

  const std::string copy = dir_ + "/out";
  ASSERT_EQ(Run({"get", "/f", copy}), kExitOk) << err();
  EXPECT_EQ(out(), "");
  EXPECT_EQ(ReadLocal(copy), content);

  ASSERT_EQ(Run({"get", "/f", "-"}), kExitOk) << err();
  EXPECT_EQ(out(), content);
  ASSERT_EQ(Run({"cat", "/f"}), kExitOk) << err();
  EXPECT_EQ(out(), content);
}

TEST_F(CliDataTest, PutFromStandardInput) {
  ASSERT_EQ(Run({"put", "-", "/s"}, "hello\n"), kExitOk) << err();
  EXPECT_EQ(tree_.data["/s"], "hello\n");
  ASSERT_EQ(Run({"put", "-", "/empty"}, ""), kExitOk) << err();
  ASSERT_NE(tree_.Find("/empty"), nullptr);
  EXPECT_EQ(tree_.Find("/empty")->size, 0u);
  ASSERT_EQ(Run({"cat", "/empty", "/s"}), kExitOk) << err();
  EXPECT_EQ(out(), "hello\n");
}

TEST_F(CliTest, SnapshotCopiesTheTree) {
  ASSERT_EQ(Run({"mkdir", "-p", "/d/e"}), kExitOk) << err();
  ASSERT_EQ(Run({"touch", "/d/e/f"}), kExitOk) << err();
  ASSERT_EQ(Run({"snapshot", "/d", "/snap"}), kExitOk) << err();
  EXPECT_NE(tree_.Find("/snap/e/f"), nullptr);
  EXPECT_EQ(Run({"snapshot", "/d", "/snap"}), kExitFailed);
  EXPECT_EQ(err().rfind("gfs: snapshot /d /snap: AlreadyExists", 0), 0u) << err();
  EXPECT_EQ(Run({"snapshot", "/d"}), kExitUsage);
}

TEST_F(CliTest, RmThenUndelete) {
  ASSERT_EQ(Run({"touch", "/f"}), kExitOk) << err();
  ASSERT_EQ(Run({"rm", "/f"}), kExitOk) << err();
  EXPECT_EQ(tree_.Find("/f"), nullptr);
  ASSERT_EQ(Run({"undelete", "/f"}), kExitOk) << err();
  EXPECT_NE(tree_.Find("/f"), nullptr);
  EXPECT_EQ(Run({"undelete", "/f"}), kExitFailed);
  EXPECT_EQ(err().rfind("gfs: undelete /f: NotFound: ", 0), 0u) << err();
  EXPECT_EQ(Run({"undelete"}), kExitUsage);
}

TEST_F(CliDataTest, AppendPrintsTheOffset) {
  ASSERT_EQ(Run({"touch", "/log"}), kExitOk) << err();
  tree_.nodes["/log"].chunk_size = 1024;
  ASSERT_EQ(Run({"append", "-", "/log"}, "first"), kExitOk) << err();
  EXPECT_EQ(out(), "0\n");
  const std::string local = LocalFile("rec", "second");
  ASSERT_EQ(Run({"append", local, "/log"}), kExitOk) << err();
  EXPECT_EQ(out(), "5\n");
  EXPECT_EQ(tree_.data["/log"], "firstsecond");
  // A record past a quarter of the chunk size is refused before anything is sent.
  EXPECT_EQ(Run({"append", "-", "/log"}, std::string(257, 'x')), kExitFailed);
  EXPECT_EQ(err().rfind("gfs: append /log: InvalidArgument: ", 0), 0u) << err();
  EXPECT_EQ(tree_.data["/log"], "firstsecond");
  EXPECT_EQ(Run({"append", "-", "/missing"}, "x"), kExitFailed);
  EXPECT_EQ(err().rfind("gfs: append /missing: NotFound", 0), 0u) << err();
  EXPECT_EQ(Run({"append", "/log"}), kExitUsage);
}

TEST_F(CliDataTest, PutReplicationOption) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"put", "-r", "2", "-", "/a"},
                                             {"put", "-r2", "-", "/b"},
                                             {"put", "-", "/c", "--replication=2"},
                                             {"put", "--replication", "2", "-", "/d"},
                                             {"put", "-fr", "2", "-", "/e"}}) {
    SCOPED_TRACE(::testing::PrintToString(args));
    ASSERT_EQ(Run(args, "x"), kExitOk) << err();
    const std::string& remote = args[args.size() - (args.back() == "--replication=2" ? 2 : 1)];
    ASSERT_NE(tree_.Find(remote), nullptr);
    EXPECT_EQ(tree_.Find(remote)->replication, 2u);
  }
}

TEST_F(CliDataTest, PutRefusesAnExistingFileUnlessForced) {
  ASSERT_EQ(Run({"put", "-", "/f"}, "old"), kExitOk) << err();
  EXPECT_EQ(Run({"put", "-", "/f"}, "new"), kExitFailed);
  EXPECT_EQ(err(), "gfs: put /f: AlreadyExists: /f already exists\n");
  EXPECT_EQ(tree_.data["/f"], "old");
  ASSERT_EQ(Run({"put", "-f", "-", "/f"}, "new!"), kExitOk) << err();
  EXPECT_EQ(tree_.data["/f"], "new!");
  EXPECT_EQ(tree_.Find("/f")->size, 4u);

  // A directory is never replaced.
  ASSERT_EQ(Run({"mkdir", "/d"}), kExitOk);
  EXPECT_EQ(Run({"put", "-f", "-", "/d"}, "x"), kExitFailed);
  EXPECT_EQ(err().rfind("gfs: put /d: AlreadyExists", 0), 0u) << err();
  EXPECT_TRUE(tree_.Find("/d")->is_directory());
}

TEST_F(CliDataTest, PutOfAMissingLocalFileCreatesNothing) {
  EXPECT_EQ(Run({"put", dir_ + "/nope", "/f"}), kExitFailed);
  EXPECT_EQ(err(), "gfs: put /f: NotFound: open " + dir_ + "/nope: No such file or directory\n");
  EXPECT_EQ(tree_.Find("/f"), nullptr);
  EXPECT_EQ(Run({"put", dir_, "/f"}), kExitFailed);
  EXPECT_EQ(err(), "gfs: put /f: InvalidArgument: " + dir_ + " is a directory\n");
  EXPECT_EQ(tree_.Find("/f"), nullptr);
}

TEST_F(CliDataTest, FailedPutRemovesThePartialFile) {
  tree_.write_error = Status::Unavailable("no chunkserver answered");
  tree_.write_error_after = 1 << 20;
  const std::string local = LocalFile("in", Binary(20 << 20));  // several copy buffers
  EXPECT_EQ(Run({"put", local, "/f"}), kExitFailed);
  EXPECT_EQ(err().rfind("gfs: put /f: Unavailable: write /f at offset ", 0), 0u) << err();
  EXPECT_NE(err().find("no chunkserver answered"), std::string::npos) << err();
  EXPECT_EQ(tree_.Find("/f"), nullptr);
}

TEST_F(CliDataTest, PutIntoAMissingDirectory) {
  EXPECT_EQ(Run({"put", "-", "/no/f"}, "x"), kExitFailed);
  EXPECT_EQ(err(), "gfs: put /no/f: NotFound: parent directory /no does not exist\n");
}

TEST_F(CliDataTest, GetOfAMissingFileLeavesTheLocalFileAlone) {
  const std::string local = LocalFile("keep", "precious");
  EXPECT_EQ(Run({"get", "/nope", local}), kExitFailed);
  EXPECT_EQ(err(), "gfs: get /nope: NotFound: /nope does not exist\n");
  EXPECT_EQ(ReadLocal(local), "precious");
  EXPECT_EQ(Run({"get", "/nope", dir_ + "/new"}), kExitFailed);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/new"));
}

TEST_F(CliDataTest, GetIntoAnUnwritablePlaceFails) {
  ASSERT_EQ(Run({"put", "-", "/f"}, "data"), kExitOk) << err();
  EXPECT_EQ(Run({"get", "/f", dir_ + "/missing-dir/out"}), kExitFailed);
  EXPECT_EQ(err().rfind("gfs: get /f: NotFound: open " + dir_ + "/missing-dir/out", 0), 0u)
      << err();
}

TEST_F(CliDataTest, CatGoesOnAfterAFailedPath) {
  ASSERT_EQ(Run({"put", "-", "/a"}, "A"), kExitOk);
  ASSERT_EQ(Run({"put", "-", "/b"}, "B"), kExitOk);
  ASSERT_EQ(Run({"mkdir", "/d"}), kExitOk);
  EXPECT_EQ(Run({"cat", "/a", "/nope", "/d", "/b"}), kExitFailed);
  EXPECT_EQ(out(), "AB");
  EXPECT_EQ(err(),
            "gfs: cat /nope: NotFound: /nope does not exist\n"
            "gfs: cat /d: FailedPrecondition: /d is a directory\n");
}

}  // namespace
}  // namespace gfs::cli
