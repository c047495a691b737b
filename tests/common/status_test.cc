#include "gfs/status.h"

#include <gtest/gtest.h>

#include "common/grpc_status.h"
#include "tests/test_util.h"

namespace gfs {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return Status::InvalidArgument(std::to_string(x) + " is odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  GFS_ASSIGN_OR_RETURN(int half, Half(x));
  GFS_ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

Status CheckEven(int x) {
  GFS_RETURN_IF_ERROR_PREPEND(Half(x).status(), "checking " + std::to_string(x));
  return Status::OK();
}

TEST(StatusTest, OkAndToString) {
  EXPECT_TRUE(Status::OK().ok());
  EXPECT_EQ(Status::OK().ToString(), "OK");
  Status s = Status::NotFound("/a does not exist");
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(s.IsNotFound());
  EXPECT_EQ(s.ToString(), "NotFound: /a does not exist");
}

TEST(StatusTest, PrependAddsContext) {
  Status s = CheckEven(3);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "checking 3: 3 is odd");
  EXPECT_OK(CheckEven(4));
  EXPECT_TRUE(Status::OK().Prepend("ignored").ok());
}

TEST(StatusTest, AssignOrReturn) {
  ASSERT_OK(Quarter(8));
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).status().message(), "3 is odd");
}

TEST(StatusTest, ResultFromOkStatusIsAnError) {
  Result<int> r{Status::OK()};
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
}

TEST(StatusTest, IOErrorMapsErrno) {
  EXPECT_EQ(Status::IOError("write x", ENOSPC).code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(Status::IOError("open x", ENOENT).code(), StatusCode::kNotFound);
  Status s = Status::IOError("fsync /d/f", EIO);
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_NE(s.message().find("fsync /d/f: "), std::string::npos);
}

TEST(StatusTest, GrpcRoundTripKeepsCodeAndMessage) {
  for (int code = 0; code <= static_cast<int>(StatusCode::kUnauthenticated); ++code) {
    Status s(static_cast<StatusCode>(code), code == 0 ? "" : "msg");
    Status back = FromGrpc(ToGrpc(s));
    EXPECT_EQ(back, s) << StatusCodeName(s.code());
  }
}

}  // namespace
}  // namespace gfs
