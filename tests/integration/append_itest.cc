// Record append end to end (one gfs-master, three gfs-chunkservers, 1 MiB chunks):
// concurrent appenders, every acknowledged record intact at its returned offset in every
// replica's chunk file on disk, the framed reader returning each record exactly once,
// and the same while a chunkserver is killed with kill -9.
#include <glog/logging.h>
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include "gfs/records.h"
#include "tests/integration/harness.h"
#include "tests/test_util.h"

namespace gfs::testing {
namespace {

constexpr uint64_t kChunk = 1 << 20;

struct Acked {
  uint64_t offset;
  std::string payload;
};

class AppendTest : public GfsTest {
 protected:
  void SetUp() override {
    GfsTest::SetUp();
    cluster_ = std::make_unique<MiniCluster>(test_dir());
    ASSERT_OK(cluster_->StartMaster({"--chunk_size_bytes=" + std::to_string(kChunk),
                                     "--lease_ms=2000", "--heartbeat_timeout_ms=2000"}));
    ASSERT_OK(cluster_->StartChunkservers(3));
    ASSERT_OK(cluster_->WaitChunkserversLive(3));
    ClientOptions options;
    options.data_timeout = std::chrono::seconds(40);
    client_ = cluster_->NewClient(options);
    ASSERT_OK(client_->CreateFile("/log", 3));
  }

  // Runs `appenders` threads each appending `records` framed records of random sizes;
  // returns what was acknowledged. `during` runs on the test thread meanwhile.
  std::vector<Acked> AppendConcurrently(int appenders, int records,
                                        const std::function<void()>& during = {}) {
    std::vector<std::vector<Acked>> acked(appenders);
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int a = 0; a < appenders; ++a) {
      threads.emplace_back([&, a] {
        std::mt19937 rng(seed() + a);
        RecordWriter writer(client_.get(), "/log");
        for (int r = 0; r < records; ++r) {
          // Mostly small records, some large enough to fill a chunk in a few appends.
          const size_t size = rng() % 8 == 0 ? 100000 + rng() % 150000 : 1 + rng() % 20000;
          std::string payload(size, '\0');
          for (char& c : payload) c = static_cast<char>('a' + rng() % 26);
          payload.replace(0, std::min<size_t>(size, 12),
                          "w" + std::to_string(a) + "r" + std::to_string(r) + ":");
          Result<uint64_t> offset = writer.Append(payload);
          if (!offset.ok()) {
            LOG(WARNING) << "appender " << a << ": " << offset.status().ToString();
            ++failures;
            continue;
          }
          acked[a].push_back({*offset, std::move(payload)});
        }
      });
    }
    if (during) during();
    for (auto& t : threads) t.join();
    std::vector<Acked> all;
    for (auto& v : acked) all.insert(all.end(), v.begin(), v.end());
    LOG(INFO) << all.size() << " records acknowledged, " << failures << " failed";
    return all;
  }

  // Checks every acknowledged record at its offset in the chunk files of every
  // up-to-date replica, straight from disk.
  void ExpectIntactOnEveryReplica(const std::vector<Acked>& acked) {
    auto chunks = client_->GetChunkLocations("/log");
    ASSERT_OK(chunks);
    std::map<uint64_t, std::vector<std::string>> replica_bytes;  // by chunk index
    for (const ChunkLocation& chunk : *chunks) {
      ASSERT_GE(chunk.replicas.size(), 2u) << "chunk " << chunk.index;
      for (const std::string& address : chunk.replicas) {
        const int cs = cluster_->ChunkserverIndex(address);
        ASSERT_GE(cs, 0) << address;
        Result<std::string> bytes = cluster_->ReadReplicaData(cs, chunk.handle);
        ASSERT_OK(bytes) << "chunk " << chunk.index << " on cs" << cs;
        replica_bytes[chunk.index].push_back(*std::move(bytes));
      }
    }
    for (const Acked& record : acked) {
      const uint64_t index = record.offset / kChunk;
      const uint64_t in_chunk = record.offset % kChunk;
      ASSERT_EQ(replica_bytes.count(index), 1u) << "no chunk " << index;
      const std::string frame_head = EncodeRecordFrame(0, 0, "").substr(0, 4);
      for (const std::string& bytes : replica_bytes[index]) {
        ASSERT_LE(in_chunk + kRecordFrameBytes + record.payload.size(), bytes.size())
            << "record at " << record.offset << " runs past a replica's data";
        EXPECT_EQ(bytes.substr(in_chunk, 4), frame_head) << "no frame at " << record.offset;
        EXPECT_TRUE(
            bytes.compare(in_chunk + kRecordFrameBytes, record.payload.size(), record.payload) == 0)
            << "record at " << record.offset << " differs on a replica";
      }
    }
  }

  // The framed reader returns every acknowledged record exactly once.
  void ExpectReaderReturnsEachOnce(const std::vector<Acked>& acked, bool allow_extra) {
    std::map<std::string, int> expected;
    for (const Acked& record : acked) ++expected[record.payload];
    RecordReader reader(client_.get(), "/log");
    std::map<std::string, int> seen;
    std::string payload;
    size_t total = 0;
    while (true) {
      Result<bool> more = reader.Next(&payload);
      ASSERT_OK(more);
      if (!*more) break;
      ++seen[payload];
      ++total;
    }
    for (const auto& [record, count] : expected) {
      ASSERT_EQ(seen[record], count) << "record " << record.substr(0, 12);
    }
    // Without faults, nothing but the acknowledged records comes back. With faults, a
    // record whose append failed for the client may still have landed.
    if (!allow_extra) {
      EXPECT_EQ(total, acked.size());
    }
  }

  std::unique_ptr<MiniCluster> cluster_;
  std::unique_ptr<Client> client_;
};

TEST_F(AppendTest, ConcurrentAppendersEveryRecordIntactAndReadOnce) {
  const std::vector<Acked> acked = AppendConcurrently(8, 150);
  ASSERT_EQ(acked.size(), 8u * 150);
  // Offsets never overlap.
  std::map<uint64_t, uint64_t> extents;
  for (const Acked& r : acked) extents[r.offset] = r.offset + kRecordFrameBytes + r.payload.size();
  uint64_t end = 0;
  for (const auto& [start, stop] : extents) {
    EXPECT_GE(start, end) << "records overlap at " << start;
    EXPECT_EQ(start / kChunk, (stop - 1) / kChunk) << "record at " << start << " spans chunks";
    end = stop;
  }
  auto info = client_->Stat("/log");
  ASSERT_OK(info);
  EXPECT_GE(info->size, end);
  ASSERT_GE(end / kChunk, 3u) << "the test should cross several chunk boundaries";
  ExpectIntactOnEveryReplica(acked);
  ExpectReaderReturnsEachOnce(acked, /*allow_extra=*/false);
}

TEST_F(AppendTest, AppendsSurviveAChunkserverKill) {
  const std::vector<Acked> acked = AppendConcurrently(4, 120, [&] {
    // Let the appenders get going, then kill one chunkserver for good.
    ASSERT_EVENTUALLY(client_->Stat("/log")->size > 2 * kChunk, std::chrono::seconds(30));
    cluster_->KillChunkserver(1);
  });
  ASSERT_GT(acked.size(), 0u);
  ExpectIntactOnEveryReplica(acked);
  ExpectReaderReturnsEachOnce(acked, /*allow_extra=*/true);
}

TEST_F(AppendTest, OversizedRecordIsRefused) {
  ASSERT_CODE(client_->Append("/log", std::string(kChunk / 4 + 1, 'x')),
              StatusCode::kInvalidArgument);
  ASSERT_CODE(client_->Append("/missing", "x"), StatusCode::kNotFound);
  auto offset = client_->Append("/log", std::string(kChunk / 4, 'y'));
  ASSERT_OK(offset);
  EXPECT_EQ(*offset, 0u);
  auto cli = cluster_->RunCli({"append", "-", "/log"});
  // No input: an empty record is refused.
  EXPECT_EQ(cli.exit_code, 1) << cli.err;
}

}  // namespace
}  // namespace gfs::testing
