// Start-up and shutdown shared by the gfs daemons (and, for the deadlock detector and
// the malloc settings, by the client programs).
#pragma once

namespace gfs {

// Parses flags, sets up glog (to stderr unless --log_dir is given), and blocks SIGINT
// and SIGTERM in this and every thread started afterwards, so that only
// WaitForTerminationSignal() receives them, and raises the open-file limit to the
// hard limit, and turns off absl's mutex deadlock detector (see daemon.cc). Call first
// thing in main().
void InitDaemon(int* argc, char*** argv, const char* usage);

// Turns off absl's mutex deadlock detector, which Debian's absl leaves on and every
// gRPC lock then pays for. InitDaemon calls it; client programs (gfs, gfs-bench) call
// it first thing in main().
void TurnOffMutexDeadlockDetection();

// Makes glibc keep freed memory (up to 64 MiB per heap) for reuse instead of returning
// it to the kernel at once, so that a client's megabyte buffers do not page-fault
// afresh every time (see daemon.cc). Process-wide: the client programs (gfs,
// gfs-bench) call it first thing in main(); an application using the client library
// may do the same.
void KeepFreedBuffersForReuse();

// Blocks until SIGINT or SIGTERM arrives; returns the signal number.
int WaitForTerminationSignal();

}  // namespace gfs
