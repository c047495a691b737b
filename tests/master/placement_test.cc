#include "master/placement.h"

#include <set>

#include "tests/test_util.h"

namespace gfs::master {
namespace {

PlacementCandidate Server(std::string address, std::string rack, uint64_t used = 0,
                          uint32_t recent = 0) {
  return PlacementCandidate{std::move(address), std::move(rack), used, 1000, recent};
}

TEST(PlacementTest, SpreadsOverRacksFirst) {
  std::vector<PlacementCandidate> servers = {
      Server("a1", "a"),      Server("a2", "a"),      Server("a3", "a"),
      Server("b1", "b", 900), Server("c1", "c", 900),
  };
  std::vector<std::string> chosen = ChoosePlacement(servers, 3);
  ASSERT_EQ(chosen.size(), 3u);
  std::set<std::string> racks;
  for (const std::string& address : chosen) racks.insert(address.substr(0, 1));
  // The fuller servers of racks b and c still win over a second server of rack a.
  EXPECT_EQ(racks, (std::set<std::string>{"a", "b", "c"}));
}

TEST(PlacementTest, PrefersLowerUseThenFewerRecentAllocations) {
  std::vector<PlacementCandidate> servers = {Server("x", "r", 500), Server("y", "r", 100),
                                             Server("z", "r", 300)};
  EXPECT_EQ(ChoosePlacement(servers, 2), (std::vector<std::string>{"y", "z"}));
  servers[1].recent_allocations = 5;  // y just took a burst of chunks
  EXPECT_EQ(ChoosePlacement(servers, 1), (std::vector<std::string>{"z"}));
}

TEST(PlacementTest, DistinctServersAndFewerWhenShort) {
  std::vector<PlacementCandidate> servers = {Server("a", "r"), Server("b", "r")};
  std::vector<std::string> chosen = ChoosePlacement(servers, 3);
  EXPECT_EQ(chosen.size(), 2u);
  EXPECT_NE(chosen[0], chosen[1]);
  EXPECT_TRUE(ChoosePlacement({}, 3).empty());
}

}  // namespace
}  // namespace gfs::master
