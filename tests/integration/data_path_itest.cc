// The data path end to end against real daemons (one gfs-master, three gfs-chunkservers,
// 1 MiB chunks, replication 3): writes and reads of every size around chunk boundaries,
// overwrites against an in-memory model, concurrent writers, every replica's chunk file
// read straight from disk, kill -9 of a secondary and of the primary in the middle of a
// large put, a flipped byte on disk, and the `gfs` put/get/cat/stat commands.
#include <fcntl.h>
#include <glog/logging.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <memory>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "chunkserver/chunk_store.h"
#include "common/push_data_wire.h"
#include "protos/chunkserver.grpc.pb.h"
#include "tests/integration/harness.h"
#include "tests/test_util.h"

namespace gfs::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr uint64_t kChunk = 1 << 20;
constexpr int kServers = 3;

std::vector<std::string> DataMasterFlags() {
  return {"--chunk_size_bytes=" + std::to_string(kChunk), "--lease_ms=2000",
          "--heartbeat_timeout_ms=2000"};
}

std::string RandomBytes(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const uint64_t v = rng();
    memcpy(&s[i], &v, 8);
  }
  for (; i < n; ++i) s[i] = static_cast<char>(rng());
  return s;
}

// Succeeds if `got` and `want` are the same bytes; otherwise says where they first differ
// (never prints megabytes).
::testing::AssertionResult SameBytes(const std::string& got, const std::string& want) {
  if (got == want) return ::testing::AssertionSuccess();
  size_t i = 0;
  const size_t n = std::min(got.size(), want.size());
  while (i < n && got[i] == want[i]) ++i;
  auto fail = ::testing::AssertionFailure();
  fail << "got " << got.size() << " bytes, want " << want.size() << " bytes; ";
  if (i < n) {
    size_t differing = 0;
    for (size_t k = i; k < n; ++k) differing += got[k] != want[k];
    fail << "first difference at offset " << i << " (got 0x" << std::hex
         << (static_cast<unsigned>(static_cast<unsigned char>(got[i]))) << ", want 0x"
         << (static_cast<unsigned>(static_cast<unsigned char>(want[i]))) << std::dec << "), "
         << differing << " differing bytes in the common length";
  } else {
    fail << "one is a prefix of the other";
  }
  return fail;
}

Status WriteLocalFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  out.close();
  if (!out) return Status::IOError("writing " + path, EIO);
  return Status::OK();
}

// Writes `data` through `writer` in pieces of random sizes (1 byte to 300 KiB), so that
// pieces straddle chunk boundaries in every way.
Status WriteInPieces(FileWriter* writer, std::string_view data, std::mt19937_64& rng) {
  size_t off = 0;
  while (off < data.size()) {
    const size_t piece = std::min<size_t>(data.size() - off, 1 + rng() % (300 << 10));
    GFS_RETURN_IF_ERROR(writer->Write(data.substr(off, piece)));
    off += piece;
  }
  return Status::OK();
}

// Creates `path` with 3 replicas and writes `data` into it; returns Close()'s status.
Status PutFile(Client* client, const std::string& path, const std::string& data,
               std::mt19937_64& rng) {
  GFS_ASSIGN_OR_RETURN(std::unique_ptr<FileWriter> writer, client->Create(path, kServers));
  GFS_RETURN_IF_ERROR(WriteInPieces(writer.get(), data, rng));
  if (writer->position() != data.size()) {
    return Status::Internal("writer at position " + std::to_string(writer->position()) +
                            " after writing " + std::to_string(data.size()) + " bytes");
  }
  return writer->Close();
}

// Reads `path` from start to end with FileReader::Read, `buf_size` bytes at a time.
Result<std::string> ReadSequentially(Client* client, const std::string& path, size_t buf_size) {
  GFS_ASSIGN_OR_RETURN(std::unique_ptr<FileReader> reader, client->Open(path));
  std::string out;
  std::vector<char> buf(buf_size);
  while (true) {
    GFS_ASSIGN_OR_RETURN(size_t n, reader->Read(buf.data(), buf.size()));
    if (n == 0) break;
    if (n > buf.size()) return Status::Internal("Read returned more than asked");
    out.append(buf.data(), n);
    if (out.size() > reader->size()) {
      return Status::Internal("Read returned " + std::to_string(out.size()) +
                              " bytes, past the size " + std::to_string(reader->size()));
    }
  }
  return out;
}

ClientOptions DataClientOptions() {
  ClientOptions options;
  // Long enough for the master to notice a dead chunkserver (heartbeat timeout 2 s) and
  // for an old lease to run out (2 s).
  options.data_timeout = seconds(30);
  return options;
}

class DataPathTest : public GfsTest {
 protected:
  void SetUp() override {
    GfsTest::SetUp();
    if (HasFatalFailure()) return;
    cluster_ = std::make_unique<MiniCluster>(test_dir());
    ASSERT_OK(cluster_->StartMaster(DataMasterFlags()));
    ASSERT_OK(cluster_->StartChunkservers(kServers));
    ASSERT_OK(cluster_->WaitChunkserversLive(kServers));
    client_ = cluster_->NewClient(DataClientOptions());
    rng_.seed(seed());
  }

  void TearDown() override {
    client_.reset();
    cluster_.reset();
    GfsTest::TearDown();
  }

  // Checks `path` holds exactly `want`: Stat, a sequential FileReader, FileReader::ReadAt
  // around chunk boundaries and at random offsets, and Client::ReadAt.
  void ExpectFileContents(const std::string& path, const std::string& want) {
    SCOPED_TRACE("file " + path + " of " + std::to_string(want.size()) + " bytes");
    Result<FileInfo> info = client_->Stat(path);
    ASSERT_OK(info);
    EXPECT_EQ(info->size, want.size());

    Result<std::string> sequential = ReadSequentially(client_.get(), path, 100003);
    ASSERT_OK(sequential);
    EXPECT_TRUE(SameBytes(*sequential, want)) << "sequential Read";

    Result<std::unique_ptr<FileReader>> reader = client_->Open(path);
    ASSERT_OK(reader);
    EXPECT_EQ((*reader)->size(), want.size());
    std::vector<std::pair<uint64_t, size_t>> reads = {
        {0, 10}, {0, want.size()}, {want.size(), 10}, {want.size() + 5, 10}};
    for (uint64_t boundary = kChunk; boundary <= want.size() + 1; boundary += kChunk) {
      reads.push_back({boundary - 1, 2});
      reads.push_back({boundary - std::min<uint64_t>(boundary, 1000), 5000});
    }
    if (!want.empty()) {
      reads.push_back({want.size() - 1, 100});
      for (int i = 0; i < 5; ++i) {
        reads.push_back({rng_() % want.size(), 1 + rng_() % (2 * kChunk)});
      }
    }
    for (const auto& [offset, length] : reads) {
      std::vector<char> buf(length + 1);
      Result<size_t> n = (*reader)->ReadAt(offset, buf.data(), length);
      ASSERT_OK(n) << "ReadAt(" << offset << ", " << length << ")";
      const std::string expected =
          offset >= want.size() ? std::string() : want.substr(offset, length);
      EXPECT_TRUE(SameBytes(std::string(buf.data(), *n), expected))
          << "FileReader::ReadAt(" << offset << ", " << length << ")";
    }

    Result<std::string> whole = client_->ReadAt(path, 0, want.size() + 100);
    ASSERT_OK(whole);
    EXPECT_TRUE(SameBytes(*whole, want)) << "Client::ReadAt of the whole file";
  }

  // Checks, straight from the chunkservers' data directories, that every listed replica
  // of every chunk of `path` holds exactly the bytes `want` has for that chunk, and that
  // each chunk lists at least `min_replicas` replicas. Returns the locations.
  std::vector<ChunkLocation> ExpectReplicasHold(const std::string& path, const std::string& want,
                                                size_t min_replicas) {
    SCOPED_TRACE("replicas of " + path);
    Result<std::vector<ChunkLocation>> chunks = client_->GetChunkLocations(path);
    EXPECT_OK(chunks);
    if (!chunks.ok()) return {};
    const size_t expected_chunks = (want.size() + kChunk - 1) / kChunk;
    EXPECT_EQ(chunks->size(), expected_chunks);
    for (size_t i = 0; i < chunks->size(); ++i) {
      const ChunkLocation& loc = (*chunks)[i];
      EXPECT_EQ(loc.index, i) << "a hole in a file written from start to end";
      std::string listed;
      for (const std::string& r : loc.replicas) listed += (listed.empty() ? "" : ",") + r;
      EXPECT_GE(loc.replicas.size(), min_replicas)
          << "chunk " << loc.index << " (handle " << loc.handle << " version " << loc.version
          << ") replicas [" << listed << "]";
      if (!loc.primary.empty()) {
        // A dead primary's lease may outlive it by up to a lease period; a live one must
        // be among the replicas.
        const int primary_cs = cluster_->ChunkserverIndex(loc.primary);
        EXPECT_GE(primary_cs, 0) << "chunk " << loc.index << ": unknown primary " << loc.primary;
        if (primary_cs >= 0 && cluster_->chunkserver(primary_cs)->running()) {
          EXPECT_NE(std::find(loc.replicas.begin(), loc.replicas.end(), loc.primary),
                    loc.replicas.end())
              << "chunk " << loc.index << ": primary " << loc.primary << " is not a replica";
        }
      }
      const std::string expected = loc.index * kChunk >= want.size()
                                       ? std::string()
                                       : want.substr(loc.index * kChunk, kChunk);
      std::set<std::string> distinct(loc.replicas.begin(), loc.replicas.end());
      EXPECT_EQ(distinct.size(), loc.replicas.size()) << "chunk " << loc.index << ": duplicates";
      for (const std::string& replica : loc.replicas) {
        const int cs = cluster_->ChunkserverIndex(replica);
        EXPECT_GE(cs, 0) << "chunk " << loc.index << ": unknown replica " << replica;
        if (cs < 0) continue;
        const std::string file = cluster_->ChunkFilePath(cs, loc.handle);
        Result<std::string> bytes = cluster_->ReadReplicaData(cs, loc.handle);
        EXPECT_OK(bytes) << "chunk " << loc.index << " on cs" << cs;
        if (!bytes.ok()) continue;
        // A chunk file ends where the last write into it ended; up to the chunk's end is
        // a hole, read as zeros (a later write past the file's end leaves one).
        if (bytes->size() < expected.size()) bytes->resize(expected.size(), '\0');
        EXPECT_TRUE(SameBytes(*bytes, expected))
            << "chunk " << loc.index << " (handle " << loc.handle << " version " << loc.version
            << ") in " << file;
      }
    }
    return std::move(chunks).value();
  }

  // Kill -9 of the primary or of a secondary of a chunk in the middle of a large put.
  void KillDuringPut(bool kill_primary);

  // Ends a writer thread that outlived its deadline: kills every daemon, so that its
  // calls fail within the data timeout, and joins it.
  void KillClusterAndJoin(std::thread* writer) {
    for (int i = 0; i < cluster_->num_chunkservers(); ++i) cluster_->KillChunkserver(i);
    cluster_->KillMaster();
    writer->join();
  }

  std::unique_ptr<MiniCluster> cluster_;
  std::unique_ptr<Client> client_;
  std::mt19937_64 rng_;
};

TEST_F(DataPathTest, SizesAroundChunkBoundaries) {
  ASSERT_OK(client_->Mkdir("/sizes"));
  for (uint64_t size :
       {uint64_t{0}, uint64_t{1}, kChunk - 1, kChunk, kChunk + 1, 5 * kChunk + 123}) {
    SCOPED_TRACE("size " + std::to_string(size));
    const std::string path = "/sizes/f" + std::to_string(size);
    const std::string data = RandomBytes(rng_, size);
    ASSERT_OK(PutFile(client_.get(), path, data, rng_));
    ExpectFileContents(path, data);
    if (HasFatalFailure()) return;
  }
}

TEST_F(DataPathTest, OverwritesMatchModel) {
  const std::string path = "/model";
  std::string model = RandomBytes(rng_, 3 * kChunk + 1000);
  ASSERT_OK(PutFile(client_.get(), path, model, rng_));

  constexpr int kWrites = 24;
  for (int i = 0; i < kWrites; ++i) {
    uint64_t offset;
    if (i % 8 == 7) {
      // Past the end, leaving a gap that must read as zeros.
      offset = model.size() + rng_() % 5000;
    } else {
      offset = rng_() % (model.size() + 1);
    }
    const std::string data = RandomBytes(rng_, 1 + rng_() % (700 << 10));
    ASSERT_OK(client_->WriteAt(path, offset, data))
        << "write " << i << " at " << offset << " of " << data.size() << " bytes";
    if (offset + data.size() > model.size()) model.resize(offset + data.size(), '\0');
    model.replace(offset, data.size(), data);
    if (i % 6 == 5) {
      Result<std::string> got = client_->ReadAt(path, 0, model.size() + 10);
      ASSERT_OK(got);
      ASSERT_TRUE(SameBytes(*got, model)) << "after write " << i;
    }
  }
  ExpectFileContents(path, model);
  ExpectReplicasHold(path, model, kServers);
}

TEST_F(DataPathTest, ConcurrentWritersOnDifferentFiles) {
  constexpr int kWriters = 4;
  ASSERT_OK(client_->Mkdir("/conc"));
  std::vector<std::string> data(kWriters);
  std::vector<Status> results(kWriters);
  std::vector<std::unique_ptr<Client>> clients;
  for (int k = 0; k < kWriters; ++k) {
    data[k] = RandomBytes(rng_, 2 * kChunk + kChunk / 2 + 777 * k);
    // Two writers share the fixture's client, two have their own.
    clients.push_back(k % 2 == 0 ? nullptr : cluster_->NewClient(DataClientOptions()));
  }
  std::vector<std::thread> threads;
  for (int k = 0; k < kWriters; ++k) {
    threads.emplace_back([&, k] {
      std::mt19937_64 rng(seed() + k);
      Client* client = clients[k] != nullptr ? clients[k].get() : client_.get();
      results[k] = PutFile(client, "/conc/w" + std::to_string(k), data[k], rng);
    });
  }
  for (std::thread& t : threads) t.join();
  for (int k = 0; k < kWriters; ++k) {
    const std::string path = "/conc/w" + std::to_string(k);
    ASSERT_OK(results[k]) << path;
    ExpectFileContents(path, data[k]);
    ExpectReplicasHold(path, data[k], kServers);
  }
}

TEST_F(DataPathTest, EveryReplicaHoldsIdenticalBytes) {
  const std::string path = "/replicated";
  std::string data = RandomBytes(rng_, 4 * kChunk + 4321);
  ASSERT_OK(PutFile(client_.get(), path, data, rng_));
  // An overwrite across a chunk boundary, then one at the tail that extends the file.
  const std::string patch = RandomBytes(rng_, 300);
  ASSERT_OK(client_->WriteAt(path, kChunk - 100, patch));
  data.replace(kChunk - 100, patch.size(), patch);
  const std::string tail = RandomBytes(rng_, 5000);
  ASSERT_OK(client_->WriteAt(path, data.size() - 1000, tail));
  data.resize(data.size() - 1000);
  data += tail;

  std::vector<ChunkLocation> chunks = ExpectReplicasHold(path, data, kServers);
  std::set<std::string> all;
  for (int i = 0; i < kServers; ++i) all.insert(cluster_->chunkserver_address(i));
  for (const ChunkLocation& loc : chunks) {
    EXPECT_EQ(std::set<std::string>(loc.replicas.begin(), loc.replicas.end()), all)
        << "chunk " << loc.index << " must be on every chunkserver (replication 3 of 3)";
  }
  // Every chunkserver's directory, not only what the master lists.
  for (const ChunkLocation& loc : chunks) {
    const std::string expected = data.substr(loc.index * kChunk, kChunk);
    for (int cs = 0; cs < kServers; ++cs) {
      Result<std::string> bytes = cluster_->ReadReplicaData(cs, loc.handle);
      ASSERT_OK(bytes) << "chunk " << loc.index << " on cs" << cs;
      EXPECT_TRUE(SameBytes(*bytes, expected)) << "chunk " << loc.index << " on cs" << cs;
    }
  }
  ExpectFileContents(path, data);
}

// kill -9 of one replica's server while a 24 MiB put is under way: the put either
// succeeds and the file reads back exactly, or fails with an error naming the file; the
// bytes a Sync acknowledged before the kill are never lost, and the surviving replicas
// hold identical bytes.
void DataPathTest::KillDuringPut(bool kill_primary) {
  MiniCluster* cluster = cluster_.get();
  Client* client = client_.get();
  std::mt19937_64& rng = rng_;
  const std::string path = "/big";
  const std::string data = RandomBytes(rng, 24 * kChunk);
  // Sync at 4.5 MiB, so that chunk 4 has a live lease whose holders we can read.
  constexpr uint64_t kSyncAt = 4 * kChunk + kChunk / 2;
  constexpr size_t kPiece = 256 << 10;

  std::atomic<uint64_t> synced{0};
  std::atomic<bool> done{false};
  Status write_status;
  std::thread writer([&] {
    write_status = [&]() -> Status {
      GFS_ASSIGN_OR_RETURN(std::unique_ptr<FileWriter> w, client->Create(path, kServers));
      for (size_t off = 0; off < data.size(); off += kPiece) {
        GFS_RETURN_IF_ERROR(w->Write(std::string_view(data).substr(off, kPiece)));
        if (synced.load() == 0 && w->position() >= kSyncAt) {
          GFS_RETURN_IF_ERROR(w->Sync());
          synced.store(w->position());
        }
      }
      return w->Close();
    }();
    done.store(true);
  });

  const bool reached = WaitFor([&] { return synced.load() > 0 || done.load(); }, seconds(20));
  if (!reached || synced.load() == 0) {
    if (reached) {
      writer.join();
    } else {
      KillClusterAndJoin(&writer);
    }
    FAIL() << "the put never reached " << kSyncAt << " bytes before the kill: "
           << (reached ? write_status.ToString() : "still running after 20 s");
  }

  // Chunk 4 was just written and synced: its lease is live.
  Result<std::vector<ChunkLocation>> chunks = client->GetChunkLocations(path);
  std::string victim;
  if (chunks.ok()) {
    for (const ChunkLocation& loc : *chunks) {
      if (loc.index != 4) continue;
      if (kill_primary) {
        victim = loc.primary;
      } else {
        for (const std::string& r : loc.replicas) {
          if (r != loc.primary && !loc.primary.empty()) {
            victim = r;
            break;
          }
        }
      }
    }
  }
  const int victim_index = victim.empty() ? -1 : cluster->ChunkserverIndex(victim);
  if (victim_index >= 0) {
    cluster->KillChunkserver(victim_index);
    LOG(INFO) << "killed " << (kill_primary ? "primary " : "secondary ") << victim << " (cs"
              << victim_index << ") with the put at " << synced.load() << "+ bytes";
  }

  const bool finished = WaitFor([&] { return done.load(); }, seconds(60));
  if (!finished) {
    KillClusterAndJoin(&writer);
    FAIL() << "the put was still running 60 s after the kill; it ended with "
           << write_status.ToString();
  }
  writer.join();
  ASSERT_OK(chunks);
  ASSERT_GE(victim_index, 0) << "no " << (kill_primary ? "primary" : "secondary")
                             << " of chunk 4 to kill among the locations";

  // What Sync acknowledged survives, whatever became of the rest.
  const uint64_t acked = synced.load();
  Result<FileInfo> info = client->Stat(path);
  ASSERT_OK(info);
  EXPECT_GE(info->size, acked) << "the file lost bytes a Sync acknowledged";
  Result<std::string> prefix = client->ReadAt(path, 0, acked);
  ASSERT_OK(prefix);
  EXPECT_TRUE(SameBytes(*prefix, data.substr(0, acked))) << "bytes acknowledged by Sync";

  if (write_status.ok()) {
    LOG(INFO) << "the put succeeded despite the kill";
    ExpectFileContents(path, data);
    // Once the master has noticed the death (heartbeat timeout 2 s), no chunk lists the
    // victim, and the two survivors hold every chunk, identically.
    auto lists_victim = [&] {
      Result<std::vector<ChunkLocation>> now = client->GetChunkLocations(path);
      if (!now.ok()) return true;
      for (const ChunkLocation& loc : *now) {
        if (std::find(loc.replicas.begin(), loc.replicas.end(), victim) != loc.replicas.end()) {
          return true;
        }
      }
      return false;
    };
    ASSERT_EVENTUALLY(!lists_victim(), seconds(10));
    ExpectReplicasHold(path, data, kServers - 1);
  } else {
    LOG(INFO) << "the put failed: " << write_status.ToString();
    EXPECT_NE(write_status.ToString().find(path), std::string::npos)
        << "the error must name the file: " << write_status.ToString();
  }

  // The cluster keeps working on the two survivors.
  const std::string after_data = RandomBytes(rng, 2 * kChunk + 99);
  ASSERT_OK(PutFile(client, "/after", after_data, rng));
  ExpectFileContents("/after", after_data);
  ExpectReplicasHold("/after", after_data, kServers - 1);
}

TEST_F(DataPathTest, Kill9SecondaryDuringPut) { KillDuringPut(/*kill_primary=*/false); }

TEST_F(DataPathTest, Kill9PrimaryDuringPut) { KillDuringPut(/*kill_primary=*/true); }

// A chunkserver stopped (SIGTERM), paused and restarted keeps its replicas: once it is
// live again, every replica, its own included, holds the file's bytes.
TEST_F(DataPathTest, RestartedChunkserverKeepsItsReplicas) {
  const std::string path = "/restart";
  const std::string data = RandomBytes(rng_, 2 * kChunk + 333);
  ASSERT_OK(PutFile(client_.get(), path, data, rng_));

  ASSERT_OK(cluster_->StopChunkserver(0));
  EXPECT_FALSE(cluster_->chunkserver(0)->running());
  ASSERT_OK(cluster_->RestartChunkserver(0));
  cluster_->PauseChunkserver(1);
  cluster_->ResumeChunkserver(1);
  ASSERT_OK(cluster_->WaitChunkserversLive(kServers));
  ASSERT_EVENTUALLY(
      [&] {
        Result<std::vector<ChunkLocation>> chunks = client_->GetChunkLocations(path);
        if (!chunks.ok()) return false;
        for (const ChunkLocation& loc : *chunks) {
          if (loc.replicas.size() != static_cast<size_t>(kServers)) return false;
        }
        return true;
      }(),
      seconds(10));
  ExpectReplicasHold(path, data, kServers);
  ExpectFileContents(path, data);
}

// New chunks are placed on a server killed a moment ago, before the master knows it is
// dead. Placed first, it refuses the grant and the chunk goes elsewhere; placed as a
// secondary, the first write fails there (small files go inline; larger ones push
// first, and the push fails before any mutation reaches a secondary, so the next
// version creates the live one). Which of the two happens depends on placement; either
// way the writes succeed and every chunk keeps both live replicas, with the same bytes.
TEST_F(DataPathTest, NewChunksOnAServerJustKilledKeepTheirOtherReplicas) {
  cluster_->KillChunkserver(2);
  const std::string dead = cluster_->chunkserver_address(2);
  std::vector<std::pair<std::string, std::string>> files;
  for (int i = 0; i < 6; ++i) {
    const std::string path = "/placed-on-dead-" + std::to_string(i);
    const size_t size = i % 2 == 0 ? 4000 : kChunk + 70000;  // inline, then pushed
    files.emplace_back(path, RandomBytes(rng_, size));
    // One Write: the first mutation of each chunk is the whole piece (a push if large).
    Result<std::unique_ptr<FileWriter>> writer = client_->Create(path, kServers);
    ASSERT_OK(writer);
    ASSERT_OK((*writer)->Write(files.back().second));
    ASSERT_OK((*writer)->Close());
  }
  for (const auto& [path, data] : files) {
    ExpectFileContents(path, data);
    for (const ChunkLocation& loc : ExpectReplicasHold(path, data, kServers - 1)) {
      EXPECT_EQ(std::find(loc.replicas.begin(), loc.replicas.end(), dead), loc.replicas.end())
          << path << " chunk " << loc.index << " lists the dead server";
    }
  }
}

// A secondary freezes (SIGSTOP: its connections stay open, nothing answers) while a
// client writes, with leases as long as the default (60 s). The client gives up on the
// write after its RPC timeout (1 s) and reports it. The primary's forward to the frozen
// secondary ends with the client's deadline, so the revocation the report asks for goes
// through and the retry, on the other two replicas, succeeds within the write's own
// deadline. (With the forward left to its own 30 s deadline, the revocation could not
// drain it, the master had to wait for the lease to run out, and the write failed.)
TEST_F(DataPathTest, AFrozenSecondaryDelaysAWriteOnlyByTheClientsTimeouts) {
  client_.reset();
  cluster_ = std::make_unique<MiniCluster>(test_dir() + "/long-leases");
  ASSERT_OK(cluster_->StartMaster({"--chunk_size_bytes=" + std::to_string(kChunk),
                                   "--lease_ms=60000", "--heartbeat_timeout_ms=2000"}));
  ASSERT_OK(cluster_->StartChunkservers(kServers));
  ASSERT_OK(cluster_->WaitChunkserversLive(kServers));
  client_ = cluster_->NewClient(DataClientOptions());
  const std::string path = "/frozen";
  std::string data = RandomBytes(rng_, 100000);
  ASSERT_OK(PutFile(client_.get(), path, data, rng_));
  Result<std::vector<ChunkLocation>> chunks = client_->GetChunkLocations(path);
  ASSERT_OK(chunks);
  ASSERT_EQ(chunks->size(), 1u);
  int frozen = -1;
  for (const std::string& replica : (*chunks)[0].replicas) {
    if (replica != (*chunks)[0].primary) frozen = cluster_->ChunkserverIndex(replica);
  }
  ASSERT_GE(frozen, 0);

  ClientOptions options = DataClientOptions();
  options.rpc_timeout = seconds(1);
  options.data_timeout = seconds(20);
  std::unique_ptr<Client> client = cluster_->NewClient(options);
  cluster_->PauseChunkserver(frozen);
  const std::string patch = RandomBytes(rng_, 4000);  // inline: no push to stall first
  const auto start = std::chrono::steady_clock::now();
  const Status written = client->WriteAt(path, 1000, patch);
  const auto took = std::chrono::steady_clock::now() - start;
  cluster_->ResumeChunkserver(frozen);
  ASSERT_OK(written) << "after " << std::chrono::duration_cast<milliseconds>(took).count() << " ms";
  LOG(INFO) << "the write with a frozen secondary took "
            << std::chrono::duration_cast<milliseconds>(took).count() << " ms";
  data.replace(1000, patch.size(), patch);
  ExpectFileContents(path, data);
}

// Flips one byte of `file` at `offset`, on disk, behind the chunkserver's back.
// Flips the byte `offset` bytes into the data of the chunk file `file`.
void FlipByte(const std::string& file, off_t offset) {
  Result<uint64_t> data_offset = chunkserver::ReadChunkDataOffset(file);
  ASSERT_OK(data_offset);
  offset += static_cast<off_t>(*data_offset);
  int fd = open(file.c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0) << "open " << file << ": " << strerror(errno);
  char byte = 0;
  ASSERT_EQ(pread(fd, &byte, 1, offset), 1) << file;
  byte = static_cast<char>(byte ^ 0x5a);
  ASSERT_EQ(pwrite(fd, &byte, 1, offset), 1) << file;
  close(fd);
}

// A flipped byte on disk: the damaged replica refuses to serve it (DATA_LOSS), and
// clients still read the right bytes, failing over to a good replica.
TEST_F(DataPathTest, FlippedByteOnDiskIsDetectedAndReadsFailOver) {
  const std::string path = "/flip";
  const std::string data = RandomBytes(rng_, 2 * kChunk + 5000);
  ASSERT_OK(PutFile(client_.get(), path, data, rng_));
  Result<std::vector<ChunkLocation>> chunks = client_->GetChunkLocations(path);
  ASSERT_OK(chunks);
  ASSERT_EQ(chunks->size(), 3u);
  for (const ChunkLocation& loc : *chunks) {
    ASSERT_EQ(loc.replicas.size(), static_cast<size_t>(kServers)) << "chunk " << loc.index;
  }

  // Readers that cached the locations before the damage, so that the master dropping a
  // replica it learned is corrupt cannot keep them away from it.
  constexpr int kReaders = 6;
  std::vector<std::unique_ptr<Client>> clients;
  std::vector<std::unique_ptr<FileReader>> readers;
  for (int i = 0; i < kReaders; ++i) {
    clients.push_back(cluster_->NewClient(DataClientOptions()));
    Result<std::unique_ptr<FileReader>> reader = clients.back()->Open(path);
    ASSERT_OK(reader);
    std::string warm(data.size(), '\0');
    Result<size_t> n = (*reader)->ReadAt(0, warm.data(), warm.size());
    ASSERT_OK(n);
    ASSERT_TRUE(SameBytes(warm.substr(0, *n), data)) << "reader " << i << " before the damage";
    readers.push_back(std::move(reader).value());
  }

  // Chunk 0: one damaged replica, read directly. Chunk 1: two of three damaged, so that a
  // reader trying replicas in its own random order almost surely meets a bad one first.
  constexpr off_t kFlipAt = 70000;  // in the second 64 KiB checksum block
  const ChunkLocation c0 = (*chunks)[0];
  const ChunkLocation c1 = (*chunks)[1];
  const std::string bad0 = c0.replicas[0];
  const std::string good0 = c0.replicas[1];
  FlipByte(cluster_->ChunkFilePath(cluster_->ChunkserverIndex(bad0), c0.handle), kFlipAt);
  for (int k = 0; k < 2; ++k) {
    FlipByte(cluster_->ChunkFilePath(cluster_->ChunkserverIndex(c1.replicas[k]), c1.handle),
             kFlipAt + 1000 * k);
  }
  if (HasFatalFailure()) return;

  auto read_chunk = [&](const std::string& address, proto::ReadChunkResponse* resp) {
    auto stub = proto::ChunkServerService::NewStub(
        grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + seconds(10));
    proto::ReadChunkRequest req;
    req.set_handle(c0.handle);
    req.set_version(c0.version);
    req.set_offset(0);
    req.set_length(kChunk);
    return stub->ReadChunk(&ctx, req, resp);
  };
  {
    proto::ReadChunkResponse resp;
    grpc::Status s = read_chunk(bad0, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::DATA_LOSS)
        << "ReadChunk from the damaged replica " << bad0 << ": code " << s.error_code() << " "
        << s.error_message() << " (" << resp.data().size() << " bytes)";
  }
  {
    // The same call against a good replica returns the chunk: the request is right.
    proto::ReadChunkResponse resp;
    grpc::Status s = read_chunk(good0, &resp);
    ASSERT_TRUE(s.ok()) << "ReadChunk from " << good0 << ": " << s.error_message();
    EXPECT_TRUE(SameBytes(resp.data(), data.substr(0, kChunk))) << "ReadChunk from " << good0;
  }

  // Readers with cached locations: ReadAt of the whole file, and of the damaged bytes.
  for (int i = 0; i < kReaders; ++i) {
    std::string got(data.size(), '\0');
    Result<size_t> n = readers[i]->ReadAt(0, got.data(), got.size());
    ASSERT_OK(n) << "reader " << i;
    EXPECT_TRUE(SameBytes(got.substr(0, *n), data)) << "reader " << i;
    for (uint64_t at : {uint64_t(kFlipAt), kChunk + kFlipAt, kChunk + kFlipAt + 1000}) {
      char buf[20];
      Result<size_t> m = readers[i]->ReadAt(at - 10, buf, sizeof(buf));
      ASSERT_OK(m) << "reader " << i << " at " << at - 10;
      EXPECT_TRUE(SameBytes(std::string(buf, *m), data.substr(at - 10, 20)))
          << "reader " << i << " at " << at - 10;
    }
  }
  // Fresh clients, and the fixture's checks (sequential Read included).
  for (int i = 0; i < 3; ++i) {
    std::unique_ptr<Client> fresh = cluster_->NewClient(DataClientOptions());
    Result<std::string> got = fresh->ReadAt(path, 0, data.size());
    ASSERT_OK(got) << "fresh client " << i;
    EXPECT_TRUE(SameBytes(*got, data)) << "fresh client " << i;
  }
  ExpectFileContents(path, data);
}

// Small writes and appends carry their data to the primary inline; larger ones, and
// every one of a client told not to, push it along the chain first. Both kinds, mixed
// on one chunk, leave every replica with the same bytes. The pushing client sends
// pieces that end inside checksum blocks, which each replica writes one by one.
TEST_F(DataPathTest, InlineAndPushedMutationsInterleave) {
  ClientOptions push_only = DataClientOptions();
  push_only.inline_write_bytes = 0;
  push_only.push_piece_bytes = 100000;
  std::unique_ptr<Client> pusher = cluster_->NewClient(push_only);
  const std::string path = "/mixed";
  std::string model = RandomBytes(rng_, 200 << 10);
  ASSERT_OK(PutFile(client_.get(), path, model, rng_));
  const uint64_t sizes[] = {1, 4096, (64 << 10) - 1, 64 << 10, (64 << 10) + 1, 100000, 300001};
  int i = 0;
  for (uint64_t size : sizes) {
    for (Client* client : {client_.get(), pusher.get()}) {
      const uint64_t offset = rng_() % (model.size() + 1);
      const std::string data = RandomBytes(rng_, size);
      ASSERT_OK(client->WriteAt(path, offset, data))
          << "write " << i << " of " << size << " bytes at " << offset
          << (client == pusher.get() ? " (pushed)" : "");
      if (offset + size > model.size()) model.resize(offset + size, '\0');
      model.replace(offset, size, data);
      ++i;
    }
  }
  for (Client* client : {client_.get(), pusher.get()}) {
    const std::string record = RandomBytes(rng_, 3000);
    Result<uint64_t> at = client->Append(path, record);
    ASSERT_OK(at);
    ASSERT_GE(*at, model.size()) << "an append lands past every write";
    model.resize(*at, '\0');  // a record may follow padding
    model += record;
  }
  ExpectFileContents(path, model);
  ExpectReplicasHold(path, model, kServers);
}

// A mutation whose inline data contradicts its header, or is larger than a chunkserver
// takes inline, is refused with a reason before it is ordered.
TEST_F(DataPathTest, MalformedInlineDataIsRefused) {
  auto stub = proto::ChunkServerService::NewStub(
      grpc::CreateChannel(cluster_->chunkserver_address(0), grpc::InsecureChannelCredentials()));
  struct Case {
    std::string what;
    uint64_t data_id;
    uint64_t length;
    size_t inline_bytes;
    std::string reason;
  };
  const Case cases[] = {
      {"inline and pushed", 7, 10, 10, "names push 7"},
      {"length mismatch", 0, 11, 10, "the mutation names 11"},
      {"too large", 0, (64 << 10) + 1, (64 << 10) + 1, "more than the 65536"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    for (bool append : {false, true}) {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + seconds(10));
      auto fill = [&](auto* req) {
        req->set_handle(42);
        req->set_version(1);
        req->set_data_id(c.data_id);
        req->set_length(c.length);
        req->set_inline_data(std::string(c.inline_bytes, 'x'));
      };
      grpc::Status s;
      if (append) {
        proto::AppendRequest req;
        fill(&req);
        proto::AppendResponse resp;
        s = stub->Append(&ctx, req, &resp);
      } else {
        proto::WriteRequest req;
        fill(&req);
        proto::WriteResponse resp;
        s = stub->Write(&ctx, req, &resp);
      }
      EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
          << (append ? "Append: " : "Write: ") << s.error_message();
      EXPECT_NE(s.error_message().find(c.reason), std::string::npos) << s.error_message();
      EXPECT_NE(s.error_message().find("chunk 000000000000002a"), std::string::npos)
          << s.error_message();
    }
  }
}

// The ways a chunkserver creates a replica it does not hold, besides the master's grant,
// are narrow: only serial 1 of a mutation marked as creating, and only a version change
// that names this process's incarnation. Anything else finds no chunk.
TEST_F(DataPathTest, ReplicasAreCreatedOnlyByTheFirstMutationOrTheSameIncarnation) {
  // A chunkserver of its own that never heartbeats: the master would otherwise have the
  // made-up chunks below deleted as orphans while the test looks at them.
  ASSERT_OK(cluster_->StartChunkservers(1, {"--heartbeat_ms=3600000"}));
  const int cs = cluster_->num_chunkservers() - 1;
  auto stub = proto::ChunkServerService::NewStub(
      grpc::CreateChannel(cluster_->chunkserver_address(cs), grpc::InsecureChannelCredentials()));
  auto apply = [&](uint64_t handle, uint64_t serial, bool create) {
    proto::ApplyMutationRequest req;
    req.set_handle(handle);
    req.set_version(1);
    req.set_serial(serial);
    req.set_length(5);
    req.set_inline_data("hello");
    req.set_create(create);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + seconds(10));
    proto::ApplyMutationResponse resp;
    return stub->ApplyMutation(&ctx, req, &resp);
  };
  auto bump = [&](uint64_t handle, uint64_t from, uint64_t incarnation) {
    proto::UpdateChunkVersionRequest req;
    req.set_handle(handle);
    req.set_expected_version(from);
    req.set_new_version(from + 1);
    req.set_create_incarnation(incarnation);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + seconds(10));
    proto::UpdateChunkVersionResponse resp;
    return stub->UpdateChunkVersion(&ctx, req, &resp);
  };
  auto exists = [&](uint64_t handle) { return cluster_->ReadReplicaData(cs, handle).ok(); };

  // Serial 1 not marked as creating finds no chunk; serial 2 marked as creating (a
  // replica lost after the first mutation) creates nothing either.
  grpc::Status s = apply(1001, 1, false);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
  s = apply(1001, 2, true);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
  EXPECT_FALSE(exists(1001));
  // Serial 1 marked as creating creates the replica and applies the write.
  s = apply(1002, 1, true);
  EXPECT_TRUE(s.ok()) << s.error_message();
  Result<std::string> data = cluster_->ReadReplicaData(cs, 1002);
  ASSERT_OK(data);
  EXPECT_EQ(*data, "hello");
  // A version change naming another incarnation (the server restarted since the
  // placement, as far as it can tell) creates nothing.
  s = bump(1003, 1, 12345);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
  EXPECT_NE(s.error_message().find("restarted"), std::string::npos) << s.error_message();
  EXPECT_FALSE(exists(1003));
  // The incarnation this process logged at start creates the replica, durably, at the
  // new version.
  uint64_t incarnation = 0;
  ASSERT_TRUE(WaitFor(
      [&] {
        std::ifstream log(cluster_->chunkserver(cs)->log_path());
        const std::string text((std::istreambuf_iterator<char>(log)), {});
        std::smatch m;
        if (!std::regex_search(text, m, std::regex("incarnation ([0-9a-f]+)"))) return false;
        incarnation = std::stoull(m[1].str(), nullptr, 16);
        return true;
      },
      seconds(10)))
      << "no incarnation in " << cluster_->chunkserver(cs)->log_path();
  s = bump(1004, 1, incarnation);
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(exists(1004));
  EXPECT_TRUE(bump(1004, 2, 0).ok()) << "created at version 2";
  // On a replica that exists it is a plain version change, whatever the incarnation:
  // 1 -> 2 here, so that 2 -> 3 works next and 1 -> 2 no longer does.
  s = bump(1002, 1, 12345);
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(bump(1002, 2, 0).ok());
  EXPECT_EQ(bump(1002, 1, 0).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  data = cluster_->ReadReplicaData(cs, 1002);
  ASSERT_OK(data);
  EXPECT_EQ(*data, "hello");
}

// One client writes a file, renames it away, and creates a new file at the old path; then
// deletes and creates again. Its cached leases must never send bytes to the old file.
// A push whose message does not parse is refused with INVALID_ARGUMENT, and the push
// buffer forgets it here and down the chain: the same push id is free again.
TEST_F(DataPathTest, MalformedPushIsRefusedAndForgotten) {
  const std::string first = cluster_->chunkserver_address(0);
  const std::string second = cluster_->chunkserver_address(1);
  constexpr uint64_t kDataId = 0x5eed;
  // Pushes "0123456789" as push kDataId to `to` with `chain` after it; `garbage` replaces
  // the second message.
  auto push = [&](const std::string& to, std::vector<std::string> chain, bool garbage) {
    auto channel = grpc::CreateChannel(to, grpc::InsecureChannelCredentials());
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + seconds(10));
    grpc::ByteBuffer reply;
    auto stream = OpenPushStream(channel.get(), &ctx, &reply);
    PushHeader header;
    header.data_id = kDataId;
    header.length = 10;
    header.chain = std::move(chain);
    bool ok = stream->Write(EncodePushMessage(&header, "01234"));
    if (garbage) {
      const std::string bytes = "\x0b not a push message";
      grpc::Slice slice(bytes.data(), bytes.size());
      ok = ok && stream->Write(grpc::ByteBuffer(&slice, 1));
    } else {
      ok = ok && stream->Write(EncodePushMessage(nullptr, "56789"));
    }
    if (ok) stream->WritesDone();
    return stream->Finish();
  };

  grpc::Status s = push(first, {second}, /*garbage=*/true);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_NE(s.error_message().find("malformed push message"), std::string::npos)
      << s.error_message();
  EXPECT_NE(s.error_message().find(first), std::string::npos) << s.error_message();

  s = push(first, {}, /*garbage=*/false);
  EXPECT_TRUE(s.ok()) << "the refused push stayed in " << first << ": " << s.error_message();
  // Downstream the push ends when the first replica cancels its forward: soon after.
  const auto deadline = std::chrono::steady_clock::now() + seconds(10);
  do {
    s = push(second, {}, /*garbage=*/false);
  } while (!s.ok() && std::chrono::steady_clock::now() < deadline &&
           (std::this_thread::sleep_for(std::chrono::milliseconds(50)), true));
  EXPECT_TRUE(s.ok()) << "the refused push stayed in " << second << ": " << s.error_message();
}

TEST_F(DataPathTest, RenameOrRecreateNeverRedirectsWrites) {
  ASSERT_OK(client_->Mkdir("/x", false));
  auto write = [&](const std::string& path, char c, bool overwrite) {
    auto writer = client_->Create(path, 3, overwrite);
    ASSERT_OK(writer);
    ASSERT_OK((*writer)->Write(std::string(1000, c)));
    ASSERT_OK((*writer)->Close());
  };
  write("/x/a", 'A', false);
  ASSERT_OK(client_->Rename("/x/a", "/x/b"));
  write("/x/a", 'B', false);
  EXPECT_EQ(*client_->ReadAt("/x/b", 0, 1000), std::string(1000, 'A'));
  EXPECT_EQ(*client_->ReadAt("/x/a", 0, 1000), std::string(1000, 'B'));
  write("/x/a", 'C', /*overwrite=*/true);
  EXPECT_EQ(*client_->ReadAt("/x/a", 0, 1000), std::string(1000, 'C'));
  // Appends follow the file too.
  ASSERT_OK(client_->Append("/x/a", "tail"));
  ASSERT_OK(client_->Rename("/x/a", "/x/c"));
  ASSERT_OK(client_->CreateFile("/x/a", 3));
  auto offset = client_->Append("/x/a", "fresh");
  ASSERT_OK(offset);
  EXPECT_EQ(*offset, 0u);
  EXPECT_EQ(*client_->ReadAt("/x/c", 1000, 4), "tail");
  // A writer keeps writing its file after a rename, and a deleted file refuses writes.
  auto writer = client_->Create("/x/moving", 3);
  ASSERT_OK(writer);
  ASSERT_OK((*writer)->Write("before "));
  ASSERT_OK((*writer)->Sync());
  ASSERT_OK(client_->Rename("/x/moving", "/x/moved"));
  ASSERT_OK((*writer)->Write("after"));
  ASSERT_OK((*writer)->Close());
  EXPECT_EQ(*client_->ReadAt("/x/moved", 0, 100), "before after");
  // A writer whose file is deleted under it: its next Sync fails, naming the file, and
  // no new file appears at the path.
  auto orphan = client_->Create("/x/doomed", 3);
  ASSERT_OK(orphan);
  ASSERT_OK((*orphan)->Write("kept "));
  ASSERT_OK((*orphan)->Sync());
  ASSERT_OK(client_->Delete("/x/doomed", false));
  ASSERT_OK((*orphan)->Write("lost"));
  const Status closed = (*orphan)->Close();
  EXPECT_FALSE(closed.ok()) << "Close of a deleted file succeeded";
  EXPECT_NE(closed.message().find("/x/doomed"), std::string::npos) << closed.ToString();
  ASSERT_CODE(client_->Stat("/x/doomed"), StatusCode::kNotFound);
}

TEST_F(DataPathTest, AdminReportAndFsckSeeDeadServers) {
  auto writer = client_->Create("/f", 3);
  ASSERT_OK(writer);
  ASSERT_OK((*writer)->Write(std::string(2 * kChunk, 'x')));
  ASSERT_OK((*writer)->Close());
  CliResult report = cluster_->RunCli({"admin", "report"});
  ASSERT_EQ(report.exit_code, 0) << report.err;
  EXPECT_NE(report.out.find("3 chunkservers, 3 live"), std::string::npos) << report.out;
  CliResult fsck = cluster_->RunCli({"admin", "fsck"});
  ASSERT_EQ(fsck.exit_code, 0) << fsck.err;
  EXPECT_NE(fsck.out.find("0 missing, 0 under-replicated"), std::string::npos) << fsck.out;

  // One server dies: its replicas are gone, the data is still there.
  cluster_->KillChunkserver(0);
  ASSERT_EVENTUALLY(
      cluster_->RunCli({"admin", "report"}).out.find("3 chunkservers, 2 live") != std::string::npos,
      seconds(15));
  fsck = cluster_->RunCli({"admin", "fsck", "/"});
  EXPECT_EQ(fsck.exit_code, 0) << fsck.out << fsck.err;
  EXPECT_NE(fsck.out.find("UNDER-REPLICATED /f chunk 0"), std::string::npos) << fsck.out;
  // All die: the data is missing, and fsck says so with exit status 1.
  cluster_->KillChunkserver(1);
  cluster_->KillChunkserver(2);
  ASSERT_EVENTUALLY(cluster_->RunCli({"admin", "fsck"}).exit_code == 1, seconds(15));
  fsck = cluster_->RunCli({"admin", "fsck"});
  EXPECT_NE(fsck.out.find("MISSING /f chunk 1"), std::string::npos) << fsck.out;
}

TEST_F(DataPathTest, CliPutGetCatStat) {
  const std::string data = RandomBytes(rng_, 3 * kChunk + kChunk / 2);
  const std::string local = test_dir() + "/local.bin";
  const std::string fetched = test_dir() + "/fetched.bin";
  ASSERT_OK(WriteLocalFile(local, data));

  CliResult r = cluster_->RunCli({"put", "-r", "3", local, "/cli.bin"});
  ASSERT_EQ(r.exit_code, 0) << "put: " << r.err;
  EXPECT_EQ(r.err, "");

  r = cluster_->RunCli({"get", "/cli.bin", fetched});
  ASSERT_EQ(r.exit_code, 0) << "get: " << r.err;
  EXPECT_EQ(r.err, "");
  CliResult cmp = RunCommand("/usr/bin/cmp", {local, fetched});
  EXPECT_EQ(cmp.exit_code, 0) << "cmp: " << cmp.out << cmp.err;

  r = cluster_->RunCli({"cat", "/cli.bin"});
  ASSERT_EQ(r.exit_code, 0) << "cat: " << r.err;
  EXPECT_TRUE(SameBytes(r.out, data)) << "cat";

  // No -f: refuses to replace the file.
  r = cluster_->RunCli({"put", local, "/cli.bin"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err.rfind("gfs: ", 0), 0u) << "stderr: [" << r.err << "]";
  EXPECT_NE(r.err.find("/cli.bin"), std::string::npos) << "stderr: [" << r.err << "]";
  EXPECT_EQ(r.out, "");

  // -f replaces it.
  const std::string data2 = RandomBytes(rng_, kChunk + 17);
  ASSERT_OK(WriteLocalFile(local, data2));
  r = cluster_->RunCli({"put", "-f", local, "/cli.bin"});
  ASSERT_EQ(r.exit_code, 0) << "put -f: " << r.err;
  r = cluster_->RunCli({"cat", "/cli.bin"});
  ASSERT_EQ(r.exit_code, 0) << "cat: " << r.err;
  EXPECT_TRUE(SameBytes(r.out, data2)) << "cat after put -f";
  ASSERT_OK(WriteLocalFile(local, data));
  r = cluster_->RunCli({"put", "-f", local, "/cli.bin"});
  ASSERT_EQ(r.exit_code, 0) << "put -f: " << r.err;

  r = cluster_->RunCli({"stat", "--json", "/cli.bin"});
  ASSERT_EQ(r.exit_code, 0) << "stat: " << r.err;
  const std::string& json = r.out;
  EXPECT_TRUE(std::regex_search(
      json, std::regex("\"size\"\\s*:\\s*" + std::to_string(data.size()) + "\\b")))
      << json;
  EXPECT_TRUE(std::regex_search(json, std::regex("\"chunks\"\\s*:\\s*\\["))) << json;
  const std::regex replicas_re("\"replicas\"\\s*:\\s*\\[([^\\]]*)\\]");
  int listed = 0;
  for (auto it = std::sregex_iterator(json.begin(), json.end(), replicas_re);
       it != std::sregex_iterator(); ++it) {
    ++listed;
    const std::string replicas = (*it)[1];
    for (int i = 0; i < kServers; ++i) {
      EXPECT_NE(replicas.find("\"" + cluster_->chunkserver_address(i) + "\""), std::string::npos)
          << "chunk " << listed - 1 << " must list " << cluster_->chunkserver_address(i) << ": "
          << json;
    }
  }
  EXPECT_EQ(listed, 4) << "one \"replicas\" list per chunk of a 3.5-chunk file: " << json;
}

}  // namespace
}  // namespace gfs::testing
