// Copy-on-write snapshots end to end: a snapshot shares the source's chunks on disk
// until one side writes; an overwrite and a record append to the source then copy just
// the chunks they touch, and the snapshot still reads the old bytes.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "chunkserver/chunk_store.h"
#include "tests/integration/harness.h"
#include "tests/test_util.h"

namespace gfs::testing {
namespace {

constexpr uint64_t kChunk = 1 << 20;

uint64_t ChunkDataBytes(const std::string& data_dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(data_dir, ec)) {
    if (entry.path().extension() != ".chunk") continue;
    // Data only: a chunk file starts with its header and checksums.
    const uint64_t size = entry.file_size(ec);
    Result<uint64_t> offset = chunkserver::ReadChunkDataOffset(entry.path().string());
    if (offset.ok() && size > *offset) total += size - *offset;
  }
  return total;
}

class SnapshotTest : public GfsTest {
 protected:
  void SetUp() override {
    GfsTest::SetUp();
    cluster_ = std::make_unique<MiniCluster>(test_dir());
    ASSERT_OK(cluster_->StartMaster({"--chunk_size_bytes=" + std::to_string(kChunk)}));
    ASSERT_OK(cluster_->StartChunkservers(3));
    ASSERT_OK(cluster_->WaitChunkserversLive(3));
    client_ = cluster_->NewClient();
  }

  uint64_t TotalChunkBytes() {
    uint64_t total = 0;
    for (int i = 0; i < 3; ++i) total += ChunkDataBytes(cluster_->chunkserver_data_dir(i));
    return total;
  }

  std::unique_ptr<MiniCluster> cluster_;
  std::unique_ptr<Client> client_;
};

TEST_F(SnapshotTest, SnapshotKeepsOldBytesAndSharesUntouchedChunks) {
  std::mt19937_64 rng(seed());
  std::string original(3 * kChunk + 4000, '\0');
  for (char& c : original) c = static_cast<char>(rng());
  ASSERT_OK(client_->Mkdir("/src", false));
  {
    auto writer = client_->Create("/src/data", 3);
    ASSERT_OK(writer);
    ASSERT_OK((*writer)->Write(original));
    ASSERT_OK((*writer)->Close());
  }
  const uint64_t before = TotalChunkBytes();
  // (The harness's readiness probes may have left a few bytes of their own.)
  ASSERT_GE(before, 3 * original.size());
  ASSERT_LT(before, 3 * original.size() + 1000);

  ASSERT_OK(client_->Snapshot("/src", "/snap"));
  EXPECT_EQ(TotalChunkBytes(), before) << "a snapshot copies no data";
  auto snap_chunks = client_->GetChunkLocations("/snap/data");
  auto src_chunks = client_->GetChunkLocations("/src/data");
  ASSERT_OK(snap_chunks);
  ASSERT_OK(src_chunks);
  ASSERT_EQ(snap_chunks->size(), 4u);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ((*snap_chunks)[i].handle, (*src_chunks)[i].handle);

  // Overwrite inside chunk 0 and append a record (it lands in chunk 3) to the source.
  const std::string patch = "overwritten after the snapshot";
  ASSERT_OK(client_->WriteAt("/src/data", 100, patch));
  auto offset = client_->Append("/src/data", "appended after the snapshot");
  ASSERT_OK(offset);
  EXPECT_GE(*offset, original.size());

  // The snapshot reads the old bytes; the source the new ones.
  auto snap = client_->ReadAt("/snap/data", 0, original.size() + 100);
  ASSERT_OK(snap);
  EXPECT_TRUE(*snap == original) << "the snapshot changed";
  std::string expected = original;
  expected.replace(100, patch.size(), patch);
  auto src = client_->ReadAt("/src/data", 0, original.size());
  ASSERT_OK(src);
  EXPECT_TRUE(*src == expected);
  auto appended = client_->ReadAt("/src/data", *offset, 27);
  ASSERT_OK(appended);
  EXPECT_EQ(*appended, "appended after the snapshot");

  // Only chunks 0 and 3 were copied; 1 and 2 are still shared.
  src_chunks = client_->GetChunkLocations("/src/data");
  ASSERT_OK(src_chunks);
  EXPECT_NE((*src_chunks)[0].handle, (*snap_chunks)[0].handle);
  EXPECT_EQ((*src_chunks)[1].handle, (*snap_chunks)[1].handle);
  EXPECT_EQ((*src_chunks)[2].handle, (*snap_chunks)[2].handle);
  EXPECT_NE((*src_chunks)[3].handle, (*snap_chunks)[3].handle);
  const uint64_t copied = TotalChunkBytes() - before;
  EXPECT_GE(copied, 3 * (kChunk + 4000));             // chunk 0 and the short chunk 3
  EXPECT_LT(copied, 3 * (2 * kChunk + 4000 + 1000));  // ... and nothing more
}

}  // namespace
}  // namespace gfs::testing
