// The `gfs` command-line tool. All behaviour lives in cli.cc (RunCli); this only wires
// argv, the real client and the standard streams to it.
#include <glog/logging.h>

#include <iostream>
#include <string>
#include <vector>

#include "client/cli.h"
#include "common/daemon.h"
#include "gfs/client.h"

int main(int argc, char** argv) {
  gfs::TurnOffMutexDeadlockDetection();
  gfs::KeepFreedBuffersForReuse();
  // No gflags parsing: the command line belongs to RunCli (`ls -l` is not a gflag).
  // Library logs go to stderr, and only when they matter.
  FLAGS_logtostderr = true;
  FLAGS_minloglevel = google::GLOG_WARNING;
  google::InitGoogleLogging(argv[0]);

  const std::vector<std::string> args(argv + 1, argv + argc);
  return gfs::cli::RunCli(args, std::cout, std::cerr,
                          [](const std::string& masters) { return gfs::Client::Connect(masters); });
}
