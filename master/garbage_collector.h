// The master's garbage collection of deleted files: every interval it purges trash
// entries older than the retention, a bounded number per round. Their chunks then have
// no chunk record and are orphans; the ChunkManager tells their chunkservers to delete
// them through heartbeat replies.
//
// Thread-safe; owns its background thread (see PeriodicTask).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "common/periodic_task.h"
#include "master/namespace.h"

namespace gfs::master {

struct GarbageCollectorOptions {
  // Deleted entries stay recoverable this long.
  std::chrono::seconds trash_retention{259200};
  std::chrono::milliseconds interval{10000};
  // Trash entries purged per round at most.
  size_t max_purges_per_round = 100;
};

class GarbageCollector {
 public:
  // `ns` must outlive the collector. Starts the background thread.
  GarbageCollector(GarbageCollectorOptions options, Namespace* ns);

  // Runs one round now, on the caller's thread; returns how many entries it purged.
  size_t RunOnce();

 private:
  const GarbageCollectorOptions options_;
  Namespace* const ns_;
  std::unique_ptr<PeriodicTask> task_;  // last: stops before the rest goes
};

}  // namespace gfs::master
