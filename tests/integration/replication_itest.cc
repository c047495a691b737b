// Re-replication end to end: when a chunkserver dies, the master copies the chunks that
// lost a replica to another server, and every new replica holds the same bytes.
#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "tests/integration/harness.h"
#include "tests/test_util.h"

namespace gfs::testing {
namespace {

constexpr uint64_t kChunk = 1 << 20;

class ReplicationTest : public GfsTest {};

TEST_F(ReplicationTest, ChunksOfADeadServerAreCopiedElsewhere) {
  MiniCluster cluster(test_dir());
  ASSERT_OK(cluster.StartMaster({"--chunk_size_bytes=" + std::to_string(kChunk), "--lease_ms=1000",
                                 "--heartbeat_timeout_ms=1500", "--replication_check_ms=300"}));
  ASSERT_OK(cluster.StartChunkservers(4));
  ASSERT_OK(cluster.WaitChunkserversLive(4));
  auto client = cluster.NewClient();

  std::mt19937_64 rng(seed());
  std::string data(2 * kChunk + 777, '\0');
  for (char& c : data) c = static_cast<char>(rng());
  {
    auto writer = client->Create("/f", 3);
    ASSERT_OK(writer);
    ASSERT_OK((*writer)->Write(data));
    ASSERT_OK((*writer)->Close());
  }
  auto before = client->GetChunkLocations("/f");
  ASSERT_OK(before);
  const std::string victim = (*before)[0].replicas[0];
  cluster.KillChunkserver(cluster.ChunkserverIndex(victim));

  // Every chunk gets back to three live replicas, none on the dead server.
  auto whole = [&] {
    auto chunks = client->GetChunkLocations("/f");
    if (!chunks.ok()) return false;
    for (const ChunkLocation& chunk : *chunks) {
      if (chunk.replicas.size() != 3) return false;
      for (const std::string& address : chunk.replicas) {
        if (address == victim) return false;
      }
    }
    return true;
  };
  ASSERT_EVENTUALLY(whole(), std::chrono::seconds(30));
  auto after = client->GetChunkLocations("/f");
  ASSERT_OK(after);
  for (const ChunkLocation& chunk : *after) {
    const std::string expected = data.substr(
        chunk.index * kChunk, std::min<uint64_t>(kChunk, data.size() - chunk.index * kChunk));
    for (const std::string& address : chunk.replicas) {
      Result<std::string> bytes =
          cluster.ReadReplicaData(cluster.ChunkserverIndex(address), chunk.handle);
      ASSERT_OK(bytes) << "chunk " << chunk.index << " on " << address;
      EXPECT_TRUE(*bytes == expected) << "chunk " << chunk.index << " on " << address;
    }
  }
  auto read = client->ReadAt("/f", 0, data.size());
  ASSERT_OK(read);
  EXPECT_TRUE(*read == data);
  CliResult fsck = cluster.RunCli({"admin", "fsck"});
  EXPECT_EQ(fsck.exit_code, 0) << fsck.out;
  EXPECT_NE(fsck.out.find("0 missing, 0 under-replicated"), std::string::npos) << fsck.out;
}

}  // namespace
}  // namespace gfs::testing
