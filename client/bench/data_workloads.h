// gfs-bench's data workloads: sequential write and read of large files, random reads,
// and small files, through the public client library (Create/FileWriter, Open/FileReader).
//
// Every byte written carries a stamp (the file's tag and the offset, every 4 KiB), and
// every read checks the stamps of the blocks it got: a read of wrong or misplaced data
// counts as a failed operation, not as throughput.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "client/bench/bench_result.h"
#include "gfs/client.h"

namespace gfs::bench {

struct DataBenchOptions {
  int threads = 1;
  // Size of each file of write, read and randread_*.
  uint64_t file_size_bytes = 256ull << 20;
  // Replicas per chunk of the files the workloads create (0: the master's default).
  uint32_t replication = 3;
  // How long randread_* and smallfile's create phase run.
  std::chrono::milliseconds duration{3000};
  // A directory of the namespace the workloads may fill; created if missing.
  std::string base_dir = "/bench";
  // Daemons whose CPU time (user + sys from /proc/PID/stat) is measured around each run.
  std::vector<pid_t> daemon_pids;
  // Before read and randread_*: sync and drop the page cache (needs root; when it fails
  // the result's note says the cache was not dropped).
  bool drop_caches = false;
  // Bytes per Write/Read call of write and read.
  size_t io_bytes = 1 << 20;
  // Payload bytes of each record of the append workload.
  size_t record_bytes = 64 << 10;
};

// True for the workloads RunDataWorkload knows: write, read, randread_4k, randread_64k,
// randread_1m, smallfile, append.
bool IsDataWorkload(const std::string& workload);

// Runs `workload` with `options.threads` threads sharing `client`:
//   write        each thread writes its own file of file_size_bytes sequentially, then
//                Close (durable on every replica). Files live at fixed paths under
//                base_dir/data/ (named by size and replication), replaced each run.
//   read         each thread reads its file sequentially; files missing or of another
//                size are written first (not timed).
//   randread_N   every thread reads blocks of N (4k, 64k, 1m) at random aligned offsets
//                of file 0 with FileReader::ReadAt, for `duration`.
//   smallfile    each thread creates files of 4 KiB (Create, Write, Close: durable) for
//                `duration`; then reads all of them back. Two results: smallfile_create
//                and smallfile_read.
//   append       every thread appends framed records of record_bytes to one shared new
//                file for `duration` (RecordWriter); then a RecordReader reads the file
//                and every acknowledged record must come back exactly once (a missing
//                or extra record counts as an error).
// Returns InvalidArgument for an unknown workload, or the error of a set-up step.
Result<std::vector<BenchResult>> RunDataWorkload(Client* client, const std::string& workload,
                                                 const DataBenchOptions& options);

}  // namespace gfs::bench
