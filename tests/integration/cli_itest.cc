// The `gfs` command-line tool against a real gfs-master: every namespace command, its
// output formats, its exit codes (0 ok, 1 failed with "gfs: ..." on stderr, 2 usage), and
// that what it created survives a master restart.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/harness.h"
#include "tests/test_util.h"

namespace gfs::testing {
namespace {

std::string Describe(const std::vector<std::string>& args, const CliResult& r) {
  std::string cmd = "gfs";
  for (const std::string& a : args) cmd += " " + a;
  return cmd + "\n  exit code: " + std::to_string(r.exit_code) + "\n  stdout: [" + r.out +
         "]\n  stderr: [" + r.err + "]";
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

// True if some line of `listing` names `name`: the line's last word, without a trailing
// "/", is `name` or ends in "/name". Works for plain, -l and -R listings alike.
bool ListsEntry(const std::string& listing, const std::string& name) {
  for (std::string line : Lines(listing)) {
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.pop_back();
    if (!line.empty() && line.back() == '/') line.pop_back();
    size_t space = line.find_last_of(" \t");
    std::string word = space == std::string::npos ? line : line.substr(space + 1);
    if (word == name) return true;
    if (word.size() > name.size() &&
        word.compare(word.size() - name.size(), name.size(), name) == 0 &&
        word[word.size() - name.size() - 1] == '/') {
      return true;
    }
  }
  return false;
}

bool HasJsonField(const std::string& json, const std::string& key, const std::string& value) {
  return std::regex_search(json, std::regex("\"" + key + "\"\\s*:\\s*" + value));
}

class CliTest : public GfsTest {
 protected:
  void SetUp() override {
    GfsTest::SetUp();
    cluster_ = std::make_unique<MiniCluster>(test_dir());
    ASSERT_OK(cluster_->StartMaster());
  }

  CliResult Run(const std::vector<std::string>& args) {
    CliResult r = cluster_->RunCli(args);
    last_ = Describe(args, r);
    return r;
  }

  // Runs `args` and expects success; returns stdout.
  std::string RunOk(const std::vector<std::string>& args) {
    CliResult r = Run(args);
    EXPECT_EQ(r.exit_code, 0) << last_;
    EXPECT_EQ(r.err, "") << last_;
    return r.out;
  }

  // Runs `args` and expects the failure contract: exit 1, stderr "gfs: ..." naming `path`.
  void RunFails(const std::vector<std::string>& args, const std::string& path) {
    CliResult r = Run(args);
    EXPECT_EQ(r.exit_code, 1) << last_;
    EXPECT_EQ(r.err.rfind("gfs: ", 0), 0u) << "stderr must start with \"gfs: \"\n" << last_;
    EXPECT_NE(r.err.find(path), std::string::npos) << "stderr must name " << path << "\n" << last_;
    EXPECT_EQ(r.out, "") << last_;
  }

  std::unique_ptr<MiniCluster> cluster_;
  std::string last_;  // the last command and what it printed, for failure messages
};

TEST_F(CliTest, MkdirTouchLs) {
  RunOk({"mkdir", "/a"});
  RunOk({"mkdir", "-p", "/a/b/c"});
  RunOk({"mkdir", "-p", "/a/b/c"});  // -p: no error if it exists
  RunOk({"mkdir", "/x", "/y"});      // several paths
  RunFails({"mkdir", "/a"}, "/a");
  RunFails({"mkdir", "/nope/sub"}, "/nope/sub");  // parent missing, no -p
  RunOk({"touch", "/a/f1", "/a/f2"});
  RunOk({"touch", "/a/f1"});  // touch: no error if it exists

  EXPECT_EQ(Lines(RunOk({"ls", "/"})), (std::vector<std::string>{"a/", "x/", "y/"})) << last_;
  EXPECT_EQ(Lines(RunOk({"ls", "/a"})), (std::vector<std::string>{"b/", "f1", "f2"})) << last_;
  EXPECT_EQ(Lines(RunOk({"ls", "/a/b/c"})), std::vector<std::string>{}) << last_;

  // -l: one line per entry (a header line is tolerated), ending with the name.
  std::string long_listing = RunOk({"ls", "-l", "/a"});
  std::vector<std::string> lines = Lines(long_listing);
  EXPECT_GE(lines.size(), 3u) << last_;
  EXPECT_LE(lines.size(), 4u) << last_;
  for (const char* name : {"b", "f1", "f2"}) EXPECT_TRUE(ListsEntry(long_listing, name)) << last_;
  for (const std::string& line : lines) {
    if (line.size() >= 2 && line.compare(line.size() - 2, 2, "f1") == 0) {
      // type, replication, size, mtime, name: an empty file shows size 0.
      EXPECT_TRUE(std::regex_search(line, std::regex("(^|\\s)0(\\s|$)"))) << line;
    }
  }

  // -R: descends into subdirectories.
  std::string recursive = RunOk({"ls", "-R", "/a"});
  for (const char* name : {"b", "c", "f1", "f2"}) EXPECT_TRUE(ListsEntry(recursive, name)) << last_;
  EXPECT_FALSE(ListsEntry(recursive, "x")) << last_;
  std::string recursive_long = RunOk({"ls", "-l", "-R", "/a"});
  EXPECT_TRUE(ListsEntry(recursive_long, "c")) << last_;

  RunFails({"ls", "/missing"}, "/missing");
}

TEST_F(CliTest, StatJson) {
  RunOk({"mkdir", "/d"});
  RunOk({"touch", "/d/f"});

  std::string file_json = RunOk({"stat", "--json", "/d/f"});
  std::string trimmed = file_json;
  while (!trimmed.empty() && isspace(static_cast<unsigned char>(trimmed.back()))) {
    trimmed.pop_back();
  }
  ASSERT_FALSE(trimmed.empty()) << last_;
  EXPECT_EQ(trimmed.front(), '{') << "one JSON object\n" << last_;
  EXPECT_EQ(trimmed.back(), '}') << "one JSON object\n" << last_;
  EXPECT_TRUE(HasJsonField(file_json, "path", "\"/d/f\"")) << last_;
  EXPECT_TRUE(HasJsonField(file_json, "type", "\"file\"")) << last_;
  EXPECT_TRUE(HasJsonField(file_json, "size", "0\\b")) << last_;
  EXPECT_TRUE(HasJsonField(file_json, "replication", "[0-9]+")) << last_;

  std::string dir_json = RunOk({"stat", "--json", "/d"});
  EXPECT_TRUE(HasJsonField(dir_json, "path", "\"/d\"")) << last_;
  EXPECT_TRUE(HasJsonField(dir_json, "type", "\"dir\"")) << last_;
  EXPECT_TRUE(HasJsonField(dir_json, "size", "[0-9]+")) << last_;
  EXPECT_TRUE(HasJsonField(dir_json, "replication", "[0-9]+")) << last_;

  EXPECT_FALSE(RunOk({"stat", "/d/f"}).empty()) << last_;

  RunFails({"stat", "/d/missing"}, "/d/missing");
  RunFails({"stat", "--json", "/d/missing"}, "/d/missing");
}

TEST_F(CliTest, MoveFileAndDirectory) {
  RunOk({"mkdir", "-p", "/src/sub/deep"});
  RunOk({"touch", "/src/f"});

  RunOk({"mv", "/src/f", "/src/g"});
  EXPECT_EQ(Lines(RunOk({"ls", "/src"})), (std::vector<std::string>{"g", "sub/"})) << last_;

  RunOk({"mv", "/src/sub", "/moved"});
  EXPECT_EQ(Lines(RunOk({"ls", "/"})), (std::vector<std::string>{"moved/", "src/"})) << last_;
  EXPECT_EQ(Lines(RunOk({"ls", "/moved"})), std::vector<std::string>{"deep/"}) << last_;
  EXPECT_EQ(Lines(RunOk({"ls", "/src"})), std::vector<std::string>{"g"}) << last_;

  RunOk({"touch", "/src/other"});
  RunFails({"mv", "/src/g", "/src/other"}, "/src/other");  // destination exists
  RunFails({"mv", "/src/none", "/src/h"}, "/src/none");
  RunFails({"mv", "/moved", "/moved/deep/inside"}, "/moved");  // into its own subtree
}

TEST_F(CliTest, RemoveNeedsRecursiveForNonEmptyDirectory) {
  RunOk({"mkdir", "-p", "/d/e"});
  RunOk({"touch", "/d/e/f", "/top"});

  RunFails({"rm", "/d"}, "/d");
  EXPECT_EQ(Lines(RunOk({"ls", "/d/e"})), std::vector<std::string>{"f"}) << last_;

  RunOk({"rm", "/top"});  // a file needs no -r
  RunOk({"rm", "-r", "/d"});
  EXPECT_EQ(Lines(RunOk({"ls", "/"})), std::vector<std::string>{}) << last_;
  RunFails({"stat", "/d"}, "/d");
  RunFails({"rm", "/d"}, "/d");

  RunOk({"mkdir", "/empty1", "/empty2"});
  RunOk({"rm", "/empty1", "/empty2"});  // several paths; empty dirs need no -r
  EXPECT_EQ(Lines(RunOk({"ls", "/"})), std::vector<std::string>{}) << last_;
}

TEST_F(CliTest, InvalidPathsFail) {
  RunFails({"mkdir", "relative"}, "relative");
  RunFails({"mkdir", "/a//b"}, "/a//b");
  RunFails({"stat", "relative"}, "relative");
  EXPECT_EQ(Lines(RunOk({"ls", "/"})), std::vector<std::string>{}) << last_;
}

TEST_F(CliTest, UsageErrorsExit2) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"frobnicate", "/x"}, {}, {"mv", "/only-one"}, {"mkdir"}, {"ls", "--no-such-flag"}}) {
    CliResult r = Run(args);
    EXPECT_EQ(r.exit_code, 2) << last_;
    EXPECT_FALSE(r.err.empty()) << "a usage error explains itself on stderr\n" << last_;
  }
}

TEST_F(CliTest, NamespaceSurvivesMasterRestart) {
  RunOk({"mkdir", "-p", "/keep/a/b"});
  RunOk({"touch", "/keep/f", "/keep/a/g"});
  RunOk({"mv", "/keep/a/g", "/keep/a/h"});
  RunOk({"mkdir", "/gone"});
  RunOk({"rm", "/gone"});
  const std::string before_root = RunOk({"ls", "/"});
  const std::string before = RunOk({"ls", "-R", "/keep"});
  ASSERT_EQ(Lines(RunOk({"ls", "/keep"})), (std::vector<std::string>{"a/", "f"})) << last_;

  ASSERT_OK(cluster_->StopMaster());  // a clean SIGTERM shutdown exits 0
  ASSERT_OK(cluster_->RestartMaster());
  EXPECT_EQ(RunOk({"ls", "/"}), before_root) << last_;
  EXPECT_EQ(RunOk({"ls", "-R", "/keep"}), before) << last_;
  EXPECT_EQ(Lines(RunOk({"ls", "/keep/a"})), (std::vector<std::string>{"b/", "h"})) << last_;

  // And after kill -9.
  RunOk({"touch", "/keep/after"});
  cluster_->KillMaster();
  ASSERT_OK(cluster_->RestartMaster());
  EXPECT_EQ(Lines(RunOk({"ls", "/keep"})), (std::vector<std::string>{"a/", "after", "f"})) << last_;
}

}  // namespace
}  // namespace gfs::testing
