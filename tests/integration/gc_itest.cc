// Lazy deletion end to end: rm keeps a file recoverable, undelete brings it back whole,
// and once the retention passes the master purges it and the chunkservers reclaim the
// space of its replicas.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "tests/integration/harness.h"
#include "tests/test_util.h"

namespace gfs::testing {
namespace {

constexpr uint64_t kChunk = 1 << 20;

// Bytes of chunk files (headers, checksums and data) under a chunkserver's data dir.
uint64_t ChunkBytesOnDisk(const std::string& data_dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(data_dir, ec)) {
    if (entry.is_regular_file(ec)) total += entry.file_size(ec);
  }
  return total;
}

class GarbageCollectionTest : public GfsTest {
 protected:
  void SetUp() override {
    GfsTest::SetUp();
    cluster_ = std::make_unique<MiniCluster>(test_dir());
    ASSERT_OK(cluster_->StartMaster({"--chunk_size_bytes=" + std::to_string(kChunk),
                                     "--trash_retention_s=4", "--gc_interval_ms=200",
                                     "--full_report_interval_ms=500"}));
    ASSERT_OK(cluster_->StartChunkservers(3));
    ASSERT_OK(cluster_->WaitChunkserversLive(3));
    client_ = cluster_->NewClient();
  }

  uint64_t TotalChunkBytes() {
    uint64_t total = 0;
    for (int i = 0; i < 3; ++i) total += ChunkBytesOnDisk(cluster_->chunkserver_data_dir(i));
    return total;
  }

  std::string Write(const std::string& path, size_t n) {
    std::mt19937_64 rng(seed());
    std::string data(n, '\0');
    for (char& c : data) c = static_cast<char>(rng());
    auto writer = client_->Create(path, 3);
    EXPECT_OK(writer);
    if (!writer.ok()) return data;
    EXPECT_OK((*writer)->Write(data));
    EXPECT_OK((*writer)->Close());
    return data;
  }

  std::unique_ptr<MiniCluster> cluster_;
  std::unique_ptr<Client> client_;
};

TEST_F(GarbageCollectionTest, RmUndeleteThenExpiryReclaimsSpace) {
  ASSERT_OK(client_->Mkdir("/dir", false));
  const std::string data = Write("/dir/big", 3 * kChunk + 1000);
  ASSERT_OK(client_->Mkdir("/keep", false));
  const std::string kept = Write("/keep/small", 5000);
  const uint64_t before = TotalChunkBytes();
  ASSERT_GE(before, 3 * (3 * kChunk + 1000));  // three replicas of every byte

  // rm: gone from the namespace, not from the disks, and recoverable.
  ASSERT_OK(client_->Delete("/dir", /*recursive=*/true));
  ASSERT_CODE(client_->Stat("/dir/big"), StatusCode::kNotFound);
  ASSERT_OK(client_->Undelete("/dir"));
  auto back = client_->ReadAt("/dir/big", 0, data.size());
  ASSERT_OK(back);
  EXPECT_TRUE(*back == data) << "undeleted bytes differ";

  // rm again and let the retention pass: purged, and the replicas are deleted.
  ASSERT_OK(client_->Delete("/dir/big", false));
  ASSERT_EVENTUALLY(TotalChunkBytes() < before - 3 * 3 * kChunk, std::chrono::seconds(30));
  ASSERT_CODE(client_->Undelete("/dir/big"), StatusCode::kNotFound);
  // What is still referenced stays.
  auto small = client_->ReadAt("/keep/small", 0, kept.size());
  ASSERT_OK(small);
  EXPECT_TRUE(*small == kept);
}

TEST_F(GarbageCollectionTest, PurgeKeepsChunksASnapshotStillUses) {
  const std::string data = Write("/src", 2 * kChunk + 10);
  Write("/sentinel", 1000);
  ASSERT_OK(client_->Snapshot("/src", "/snap"));
  auto sentinel = client_->GetChunkLocations("/sentinel");
  ASSERT_OK(sentinel);
  ASSERT_EQ(sentinel->size(), 1u);
  const std::string sentinel_file = cluster_->ChunkFilePath(0, (*sentinel)[0].handle);
  ASSERT_TRUE(std::filesystem::exists(sentinel_file));
  // Delete both; once the sentinel's replica is gone, the purge of /src happened too.
  ASSERT_OK(client_->Delete("/src", false));
  ASSERT_OK(client_->Delete("/sentinel", false));
  ASSERT_EVENTUALLY(!std::filesystem::exists(sentinel_file), std::chrono::seconds(30));
  ASSERT_CODE(client_->Undelete("/src"), StatusCode::kNotFound);
  // The snapshot still reads every byte, from chunks still on every replica.
  auto snap = client_->ReadAt("/snap", 0, data.size());
  ASSERT_OK(snap);
  EXPECT_TRUE(*snap == data);
  auto chunks = client_->GetChunkLocations("/snap");
  ASSERT_OK(chunks);
  for (const ChunkLocation& chunk : *chunks) {
    EXPECT_EQ(chunk.replicas.size(), 3u);
    for (int cs = 0; cs < 3; ++cs) {
      EXPECT_TRUE(std::filesystem::exists(cluster_->ChunkFilePath(cs, chunk.handle)));
    }
  }
}

TEST_F(GarbageCollectionTest, OrphanReplicaOfARestartedServerIsDeleted) {
  // A file is written, then deleted and purged while one of its chunkservers is down;
  // when that server comes back, its replicas are orphans and go too.
  Write("/f", 2 * kChunk);
  const std::string dir = cluster_->chunkserver_data_dir(2);
  const uint64_t on_server = ChunkBytesOnDisk(dir);
  ASSERT_GE(on_server, 2 * kChunk);
  ASSERT_OK(cluster_->StopChunkserver(2));
  ASSERT_OK(client_->Delete("/f", false));
  ASSERT_EVENTUALLY(ChunkBytesOnDisk(cluster_->chunkserver_data_dir(0)) < kChunk &&
                        ChunkBytesOnDisk(cluster_->chunkserver_data_dir(1)) < kChunk,
                    std::chrono::seconds(30));
  ASSERT_CODE(client_->Undelete("/f"), StatusCode::kNotFound);  // purged
  EXPECT_EQ(ChunkBytesOnDisk(dir), on_server);                  // nobody touched the stopped server
  ASSERT_OK(cluster_->RestartChunkserver(2));
  ASSERT_EVENTUALLY(ChunkBytesOnDisk(dir) < kChunk, std::chrono::seconds(30));
}

}  // namespace
}  // namespace gfs::testing
