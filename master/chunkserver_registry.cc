#include "master/chunkserver_registry.h"

#include <glog/logging.h>

#include "master/placement.h"

namespace gfs::master {
namespace {

// Allocations older than this no longer count against a server.
constexpr int64_t kAllocationWindowUs = 10'000'000;

}  // namespace

ChunkServerRegistry::ChunkServerRegistry(Clock* clock, int64_t heartbeat_timeout_ms)
    : clock_(clock), heartbeat_timeout_us_(heartbeat_timeout_ms * 1000) {}

bool ChunkServerRegistry::Heartbeat(const std::string& address, const std::string& rack,
                                    uint64_t capacity_bytes, uint64_t used_bytes,
                                    bool full_report) {
  MutexLock lock(&mu_);
  auto it = servers_.find(address);
  const bool known_alive = it != servers_.end() && it->second.status.alive;
  if (!known_alive && !full_report) return true;
  Server& server = servers_[address];
  if (!known_alive) {
    LOG(INFO) << "chunkserver " << address << " (rack " << rack << ") is live";
  }
  server.status.address = address;
  server.status.rack = rack;
  server.status.capacity_bytes = capacity_bytes;
  server.status.used_bytes = used_bytes;
  server.status.alive = true;
  server.status.last_heartbeat_us = clock_->MonotonicMicros();
  return false;
}

bool ChunkServerRegistry::IsAlive(const std::string& address) {
  MutexLock lock(&mu_);
  auto it = servers_.find(address);
  return it != servers_.end() && it->second.status.alive;
}

std::vector<std::string> ChunkServerRegistry::ExpireSilent() {
  MutexLock lock(&mu_);
  const int64_t now = clock_->MonotonicMicros();
  std::vector<std::string> dead;
  for (auto& [address, server] : servers_) {
    if (server.status.alive && now - server.status.last_heartbeat_us > heartbeat_timeout_us_) {
      server.status.alive = false;
      dead.push_back(address);
      LOG(WARNING) << "chunkserver " << address << " is dead: no heartbeat for "
                   << (now - server.status.last_heartbeat_us) / 1000 << " ms";
    }
  }
  return dead;
}

Result<std::vector<std::string>> ChunkServerRegistry::PlaceNewChunk(
    size_t replicas, const std::set<std::string>& exclude) {
  MutexLock lock(&mu_);
  const int64_t now = clock_->MonotonicMicros();
  std::vector<PlacementCandidate> candidates;
  for (auto& [address, server] : servers_) {
    if (!server.status.alive || exclude.count(address) != 0) continue;
    if (now - server.window_start_us > kAllocationWindowUs) {
      server.allocations = 0;
      server.window_start_us = now;
    }
    candidates.push_back({address, server.status.rack, server.status.used_bytes,
                          server.status.capacity_bytes, server.allocations});
  }
  // Unavailable, not ResourceExhausted: right after a master restart no server has
  // reported yet, and the caller should retry.
  if (candidates.empty()) return Status::Unavailable("no chunkserver is live");
  std::vector<std::string> chosen = ChoosePlacement(std::move(candidates), replicas);
  for (const std::string& address : chosen) ++servers_[address].allocations;
  return chosen;
}

std::vector<ChunkServerStatus> ChunkServerRegistry::List() {
  MutexLock lock(&mu_);
  std::vector<ChunkServerStatus> out;
  for (const auto& [address, server] : servers_) out.push_back(server.status);
  return out;
}

}  // namespace gfs::master
