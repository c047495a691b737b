#include "common/path.h"

#include <gtest/gtest.h>

#include "tests/test_util.h"

namespace gfs {
namespace {

TEST(PathTest, AcceptsValidPaths) {
  for (const char* path : {"/", "/a", "/a/b", "/a.b/..c/c..", "/with space/x", "/ü"}) {
    EXPECT_OK(ValidatePath(path)) << path;
  }
  EXPECT_OK(ValidatePath("/" + std::string(kMaxComponentBytes, 'x')));
}

TEST(PathTest, RejectsInvalidPathsNamingThem) {
  const std::string cases[] = {
      "", "a", "a/b", "/a/", "//", "/a//b", "/.", "/a/.", "/a/../b", "/..", std::string("/a\0b", 4),
  };
  for (const std::string& path : cases) {
    Status s = ValidatePath(path);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << "'" << path << "'";
    EXPECT_NE(s.message().find("invalid path"), std::string::npos) << s.ToString();
  }
  EXPECT_NE(ValidatePath("/a//b").message().find("/a//b"), std::string::npos);
}

TEST(PathTest, RejectsOverlongComponentsAndPaths) {
  EXPECT_EQ(ValidatePath("/" + std::string(kMaxComponentBytes + 1, 'x')).code(),
            StatusCode::kInvalidArgument);
  std::string long_path;
  while (long_path.size() <= kMaxPathBytes) long_path += "/abcdefgh";
  Status s = ValidatePath(long_path);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("longer than 4096"), std::string::npos) << s.ToString();
  // A path exactly at the limit is fine.
  std::string at_limit = "/" + std::string(kMaxComponentBytes, 'x');
  while (at_limit.size() + 2 * (1 + kMaxComponentBytes) <= kMaxPathBytes) {
    at_limit += "/" + std::string(kMaxComponentBytes, 'x');
  }
  at_limit += "/" + std::string(kMaxPathBytes - at_limit.size() - 1, 'y');
  ASSERT_EQ(at_limit.size(), kMaxPathBytes);
  EXPECT_OK(ValidatePath(at_limit));
}

TEST(PathTest, SplitsAndJoins) {
  EXPECT_TRUE(SplitPath("/").empty());
  EXPECT_EQ(SplitPath("/a/bc/d"), (std::vector<std::string>{"a", "bc", "d"}));
  EXPECT_EQ(ParentPath("/a/b"), "/a");
  EXPECT_EQ(ParentPath("/a"), "/");
  EXPECT_EQ(ParentPath("/"), "/");
  EXPECT_EQ(BaseName("/a/b"), "b");
  EXPECT_EQ(BaseName("/"), "");
  EXPECT_EQ(JoinPath("/", "b"), "/b");
  EXPECT_EQ(JoinPath("/a", "b"), "/a/b");
}

TEST(PathTest, SameOrUnder) {
  EXPECT_TRUE(IsSameOrUnder("/a", "/a"));
  EXPECT_TRUE(IsSameOrUnder("/a/b", "/a"));
  EXPECT_TRUE(IsSameOrUnder("/a", "/"));
  EXPECT_FALSE(IsSameOrUnder("/ab", "/a"));
  EXPECT_FALSE(IsSameOrUnder("/a", "/a/b"));
}

}  // namespace
}  // namespace gfs
