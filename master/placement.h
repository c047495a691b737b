// Where a new chunk's replicas go: distinct chunkservers, spread over racks, preferring
// servers with lower disk use and fewer chunks placed on them recently.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gfs::master {

struct PlacementCandidate {
  std::string address;
  std::string rack;
  uint64_t used_bytes = 0;
  uint64_t capacity_bytes = 0;
  // Chunks placed on it in the recent past (limits bursts onto one server).
  uint32_t recent_allocations = 0;
};

// Picks up to `replicas` distinct candidates. Each pick prefers a rack not yet used,
// then the fewest recent allocations, then the lowest used/capacity ratio, then the
// address (so equal candidates are chosen deterministically). Returns fewer than
// `replicas` only when there are fewer candidates.
std::vector<std::string> ChoosePlacement(std::vector<PlacementCandidate> candidates,
                                         size_t replicas);

}  // namespace gfs::master
