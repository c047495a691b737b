// main() of every gfs test binary.
#include <gflags/gflags.h>
#include <glog/logging.h>
#include <grpc/grpc.h>
#include <gtest/gtest.h>

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  FLAGS_logtostderr = true;
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  google::InitGoogleLogging(argv[0]);
  // Never shut gRPC down: a final grpc_shutdown() can stall for seconds (BUILD-NOTES.md).
  grpc_init();
  return RUN_ALL_TESTS();
}
