// The chunkservers the master knows: their last heartbeat, space, rack and liveness.
// Soft state: rebuilt from heartbeats after a master restart, never logged.
//
// A server becomes live when it sends a full chunk report; it is dead once silent for
// the heartbeat timeout, and must then send a full report again to come back.
//
// Thread-safe. Lock order: ChunkManager's lock may be held when calling in here, never
// the other way round.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/mutex.h"
#include "gfs/status.h"

namespace gfs::master {

struct ChunkServerStatus {
  std::string address;
  std::string rack;
  uint64_t capacity_bytes = 0;
  uint64_t used_bytes = 0;
  bool alive = false;
  int64_t last_heartbeat_us = 0;  // monotonic
};

class ChunkServerRegistry {
 public:
  // `clock` must outlive the registry.
  ChunkServerRegistry(Clock* clock, int64_t heartbeat_timeout_ms);

  // Records a heartbeat from `address`. Returns true when the master needs a full
  // report first: the server is unknown or was declared dead and this is not one.
  bool Heartbeat(const std::string& address, const std::string& rack, uint64_t capacity_bytes,
                 uint64_t used_bytes, bool full_report) EXCLUDES(mu_);

  bool IsAlive(const std::string& address) EXCLUDES(mu_);

  // Declares dead every live server silent for the heartbeat timeout; returns them.
  std::vector<std::string> ExpireSilent() EXCLUDES(mu_);

  // Chooses up to `replicas` live servers, none in `exclude`, for a new replica (see
  // ChoosePlacement) and counts the allocation against them. Unavailable when no such
  // server is live.
  Result<std::vector<std::string>> PlaceNewChunk(size_t replicas,
                                                 const std::set<std::string>& exclude = {})
      EXCLUDES(mu_);

  std::vector<ChunkServerStatus> List() EXCLUDES(mu_);

 private:
  struct Server {
    ChunkServerStatus status;
    // Allocations in the current and previous window, to spread bursts.
    uint32_t allocations = 0;
    int64_t window_start_us = 0;
  };

  Clock* const clock_;
  const int64_t heartbeat_timeout_us_;
  Mutex mu_;
  std::map<std::string, Server> servers_ GUARDED_BY(mu_);
};

}  // namespace gfs::master
