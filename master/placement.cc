#include "master/placement.h"

#include <algorithm>
#include <set>
#include <tuple>

namespace gfs::master {

std::vector<std::string> ChoosePlacement(std::vector<PlacementCandidate> candidates,
                                         size_t replicas) {
  auto usage = [](const PlacementCandidate& c) {
    return c.capacity_bytes == 0 ? 1.0 : static_cast<double>(c.used_bytes) / c.capacity_bytes;
  };
  std::vector<std::string> chosen;
  std::set<std::string> racks_used;
  while (chosen.size() < replicas && !candidates.empty()) {
    auto best = std::min_element(
        candidates.begin(), candidates.end(),
        [&](const PlacementCandidate& a, const PlacementCandidate& b) {
          const bool a_new_rack = racks_used.count(a.rack) == 0;
          const bool b_new_rack = racks_used.count(b.rack) == 0;
          return std::make_tuple(!a_new_rack, a.recent_allocations, usage(a), a.address) <
                 std::make_tuple(!b_new_rack, b.recent_allocations, usage(b), b.address);
        });
    chosen.push_back(best->address);
    racks_used.insert(best->rack);
    candidates.erase(best);
  }
  return chosen;
}

}  // namespace gfs::master
