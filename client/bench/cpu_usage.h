// CPU time of processes, read from /proc (for gfs-bench's CPU-per-GiB figures).
#pragma once

#include <sys/types.h>

#include <vector>

namespace gfs::bench {

// User + system CPU seconds process `pid` has used so far (from /proc/PID/stat, all its
// threads); -1 if it cannot be read (the process is gone, or not on Linux).
double ProcessCpuSeconds(pid_t pid);

// The sum of ProcessCpuSeconds over `pids`; -1 if `pids` is empty or any is unreadable.
double TotalCpuSeconds(const std::vector<pid_t>& pids);

// User + system CPU seconds of this process so far.
double SelfCpuSeconds();

}  // namespace gfs::bench
