#include "chunkserver/chunk_store.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <glog/logging.h>
#include <gtest/gtest.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/crc32c.h"
#include "tests/test_util.h"

// Stand-ins for two libc calls, to fail or cut short what the chunk store asks of the
// disk. The store calls them from the same binary, so these definitions stand in for
// libc's; the real ones run unless a test arms them.
//
// A disk whose write-back fails, as far as the chunk store can tell: while
// g_failing_writeback_errno is set, every sync_file_range that waits for write-back
// (SYNC_FILE_RANGE_WAIT_AFTER) fails with it, as the kernel reports a failed write-back
// once per descriptor.
namespace {
std::atomic<int> g_failing_writeback_errno{0};
// While set, pwritev writes at most this many bytes per call (as a write interrupted by
// a signal may); the store must go on from where it stopped.
std::atomic<size_t> g_pwritev_max_bytes{0};
// While set, pwritev fails with this errno once g_pwritev_calls_before_error more calls
// have gone through (a disk that fills up partway through a write).
std::atomic<int> g_pwritev_errno{0};
std::atomic<int> g_pwritev_calls_before_error{0};
}  // namespace

extern "C" ssize_t pwritev(int fd, const struct iovec* iov, int iovcnt, off_t offset) {
  using PWriteV = ssize_t (*)(int, const struct iovec*, int, off_t);
  static const auto real = reinterpret_cast<PWriteV>(::dlsym(RTLD_NEXT, "pwritev"));
  const int err = g_pwritev_errno.load();
  if (err != 0 && g_pwritev_calls_before_error.fetch_sub(1) <= 0) {
    errno = err;
    return -1;
  }
  const size_t max_bytes = g_pwritev_max_bytes.load();
  if (max_bytes == 0) return real(fd, iov, iovcnt, offset);
  std::vector<struct iovec> cut;
  size_t left = max_bytes;
  for (int i = 0; i < iovcnt && left > 0; ++i) {
    cut.push_back(iov[i]);
    cut.back().iov_len = std::min(cut.back().iov_len, left);
    left -= cut.back().iov_len;
  }
  return real(fd, cut.data(), static_cast<int>(cut.size()), offset);
}

extern "C" int sync_file_range(int fd, off64_t offset, off64_t nbytes, unsigned int flags) {
  using SyncFileRange = int (*)(int, off64_t, off64_t, unsigned int);
  static const auto real = reinterpret_cast<SyncFileRange>(::dlsym(RTLD_NEXT, "sync_file_range"));
  const int err = g_failing_writeback_errno.load();
  if (err != 0 && (flags & SYNC_FILE_RANGE_WAIT_AFTER) != 0) {
    errno = err;
    return -1;
  }
  return real(fd, offset, nbytes, flags);
}

namespace gfs::chunkserver {
namespace {

constexpr uint64_t kB = kChecksumBlockBytes;
constexpr uint64_t kHandle = 0x2a;

std::string RandomBytes(std::mt19937* rng, size_t n) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>((*rng)());
  return s;
}

// Reads or patches files behind the store's back, as a failing disk or a crash would.
std::string ReadFile(const std::string& path) {
  std::string out;
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return out;
  char buf[65536];
  ssize_t r;
  while ((r = ::read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(r));
  ::close(fd);
  return out;
}

void PatchFile(const std::string& path, uint64_t offset, const std::string& bytes) {
  int fd = ::open(path.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0) << path;
  ASSERT_EQ(::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset)),
            static_cast<ssize_t>(bytes.size()));
  ::close(fd);
}

void FlipBit(const std::string& path, uint64_t offset) {
  int fd = ::open(path.c_str(), O_RDWR);
  ASSERT_GE(fd, 0) << path;
  char c;
  ASSERT_EQ(::pread(fd, &c, 1, static_cast<off_t>(offset)), 1);
  c ^= 0x10;
  ASSERT_EQ(::pwrite(fd, &c, 1, static_cast<off_t>(offset)), 1);
  ::close(fd);
}

class ChunkStoreTest : public testing::GfsTest {
 protected:
  void SetUp() override {
    GfsTest::SetUp();
    rng_.seed(seed());
    Reopen();
  }

  void TearDown() override {
    // A test that stopped halfway must not leave a fault armed for the next one.
    g_failing_writeback_errno = 0;
    g_pwritev_max_bytes = 0;
    g_pwritev_errno = 0;
    GfsTest::TearDown();
  }

  void Reopen(const ChunkStoreOptions& options = {}) {
    store_.reset();
    Result<std::unique_ptr<ChunkStore>> s = ChunkStore::Open(test_dir() + "/data", options);
    ASSERT_OK(s);
    store_ = std::move(s).value();
  }

  std::string ChunkPath(uint64_t handle, const std::string& suffix = ".chunk") const {
    char name[32];
    std::snprintf(name, sizeof(name), "%016llx", static_cast<unsigned long long>(handle));
    return test_dir() + "/data/chunks/" + name + suffix;
  }
  // The sidecar of the legacy format.
  std::string LegacyMetaPath(uint64_t handle) const { return ChunkPath(handle, ".meta"); }

  // Where the chunk's data starts in its file.
  uint64_t DataOffset(uint64_t handle) const {
    Result<uint64_t> offset = ReadChunkDataOffset(ChunkPath(handle));
    EXPECT_OK(offset);
    return offset.ok() ? *offset : 0;
  }
  // The chunk's data as its file holds it, and damage to it behind the store's back.
  std::string ReadData(uint64_t handle) const {
    const std::string file = ReadFile(ChunkPath(handle));
    const uint64_t offset = DataOffset(handle);
    return file.size() > offset ? file.substr(offset) : std::string();
  }
  void PatchData(uint64_t handle, uint64_t offset, const std::string& bytes) const {
    PatchFile(ChunkPath(handle), DataOffset(handle) + offset, bytes);
  }
  void FlipDataBit(uint64_t handle, uint64_t offset) const {
    FlipBit(ChunkPath(handle), DataOffset(handle) + offset);
  }

  std::string MustRead(uint64_t handle, uint64_t offset, uint64_t length) {
    Result<std::string> r = store_->Read(handle, offset, length);
    EXPECT_OK(r);
    return r.ok() ? *r : std::string();
  }

  std::mt19937 rng_;
  std::unique_ptr<ChunkStore> store_;
};

TEST_F(ChunkStoreTest, CreateInfoList) {
  ASSERT_OK(store_->Create(kHandle, 3));
  ASSERT_OK(store_->Create(7, 1));
  ASSERT_CODE(store_->Create(kHandle, 4), StatusCode::kAlreadyExists);

  Result<ChunkInfo> info = store_->Info(kHandle);
  ASSERT_OK(info);
  EXPECT_EQ(info->handle, kHandle);
  EXPECT_EQ(info->version, 3u);
  EXPECT_EQ(info->length, 0u);

  std::vector<ChunkInfo> all = store_->List();
  ASSERT_EQ(all.size(), 2u);
  std::sort(all.begin(), all.end(),
            [](const ChunkInfo& a, const ChunkInfo& b) { return a.handle < b.handle; });
  EXPECT_EQ(all[0].handle, 7u);
  EXPECT_EQ(all[0].version, 1u);
  EXPECT_EQ(all[1].handle, kHandle);
  EXPECT_TRUE(store_->corrupt_at_open().empty());

  // One file per chunk, its data on a page boundary.
  EXPECT_TRUE(std::filesystem::exists(ChunkPath(kHandle)));
  EXPECT_FALSE(std::filesystem::exists(LegacyMetaPath(kHandle)));
  EXPECT_EQ(DataOffset(kHandle) % 4096, 0u);
  EXPECT_GT(store_->capacity_bytes(), 0u);
  EXPECT_EQ(store_->used_bytes(), 0u);
}

TEST_F(ChunkStoreTest, AbsentChunkIsNotFound) {
  ASSERT_CODE(store_->Info(5), StatusCode::kNotFound);
  ASSERT_CODE(store_->Read(5, 0, 1), StatusCode::kNotFound);
  ASSERT_CODE(store_->Write(5, 0, "x"), StatusCode::kNotFound);
  ASSERT_CODE(store_->SetVersion(5, 1, 2), StatusCode::kNotFound);
  ASSERT_CODE(store_->Sync(5), StatusCode::kNotFound);
  ASSERT_CODE(store_->Delete(5), StatusCode::kNotFound);
  Status s = store_->Info(5).status();
  EXPECT_NE(s.message().find("chunk 0000000000000005"), std::string::npos) << s.ToString();
}

TEST_F(ChunkStoreTest, RoundTripSizes) {
  const std::vector<size_t> sizes = {0, 1, kB - 1, kB, kB + 1, 3 * kB + 123, 5 * kB};
  uint64_t handle = 100;
  uint64_t total = 0;
  for (size_t size : sizes) {
    SCOPED_TRACE("size " + std::to_string(size));
    ASSERT_OK(store_->Create(handle, 1));
    const std::string data = RandomBytes(&rng_, size);
    ASSERT_OK(store_->Write(handle, 0, data));
    EXPECT_EQ(store_->Info(handle)->length, size);
    EXPECT_EQ(MustRead(handle, 0, size), data);
    EXPECT_EQ(MustRead(handle, 0, size + 1000), data);  // short at the end
    EXPECT_EQ(MustRead(handle, size, 10), "");          // nothing past it
    EXPECT_EQ(MustRead(handle, size + 5, 10), "");
    if (size > 2) {
      EXPECT_EQ(MustRead(handle, 1, size - 2), data.substr(1, size - 2));
    }
    EXPECT_EQ(ReadData(handle), data);
    total += size;
    ++handle;
  }
  EXPECT_EQ(store_->used_bytes(), total);
}

TEST_F(ChunkStoreTest, GapReadsAsZeros) {
  ASSERT_OK(store_->Create(kHandle, 1));
  ASSERT_OK(store_->Write(kHandle, 0, "abc"));
  const uint64_t far = 3 * kB + 100;
  ASSERT_OK(store_->Write(kHandle, far, "xyz"));
  EXPECT_EQ(store_->Info(kHandle)->length, far + 3);
  std::string expected = "abc" + std::string(far - 3, '\0') + "xyz";
  EXPECT_EQ(MustRead(kHandle, 0, far + 3), expected);
  EXPECT_EQ(MustRead(kHandle, kB + 7, 10), std::string(10, '\0'));
  // A gap inside the last partial block, and then a write back into the gap.
  ASSERT_OK(store_->Write(kHandle, far + 50, "q"));
  expected += std::string(47, '\0') + "q";
  ASSERT_OK(store_->Write(kHandle, 2 * kB - 2, "mmmm"));
  expected.replace(2 * kB - 2, 4, "mmmm");
  EXPECT_EQ(MustRead(kHandle, 0, 10 * kB), expected);
  Reopen();
  EXPECT_EQ(MustRead(kHandle, 0, 10 * kB), expected);
}

TEST_F(ChunkStoreTest, ZeroLengthWriteChangesNothing) {
  ASSERT_OK(store_->Create(kHandle, 1));
  ASSERT_OK(store_->Write(kHandle, 1000, ""));
  EXPECT_EQ(store_->Info(kHandle)->length, 0u);
  EXPECT_EQ(MustRead(kHandle, 0, 0), "");
}

// Random writes at unaligned offsets with random lengths (overwrites, extensions,
// gaps) against an in-memory model, read back at random ranges, before and after a
// reopen.
TEST_F(ChunkStoreTest, RandomWritesMatchModel) {
  ASSERT_OK(store_->Create(kHandle, 1));
  std::string model;
  for (int i = 0; i < 200; ++i) {
    const uint64_t offset = rng_() % (model.size() + 2 * kB + 1);
    const size_t len = rng_() % 3 == 0 ? rng_() % 10 : rng_() % (3 * kB);
    const std::string data = RandomBytes(&rng_, len);
    ASSERT_OK(store_->Write(kHandle, offset, data));
    if (len > 0) {
      if (offset + len > model.size()) model.resize(offset + len, '\0');
      model.replace(offset, len, data);
    }
    const uint64_t ro = rng_() % (model.size() + 1);
    const uint64_t rl = rng_() % (4 * kB);
    ASSERT_EQ(MustRead(kHandle, ro, rl), model.substr(ro, rl)) << "step " << i;
  }
  ASSERT_EQ(MustRead(kHandle, 0, model.size()), model);
  Reopen();
  ASSERT_EQ(store_->Info(kHandle)->length, model.size());
  ASSERT_EQ(MustRead(kHandle, 0, model.size()), model);
  for (int i = 0; i < 50; ++i) {
    const uint64_t ro = rng_() % (model.size() + 1);
    const uint64_t rl = rng_() % (4 * kB);
    ASSERT_EQ(MustRead(kHandle, ro, rl), model.substr(ro, rl));
  }
}

TEST_F(ChunkStoreTest, ReopenKeepsBytesAndVersions) {
  const std::string a = RandomBytes(&rng_, 2 * kB + 17);
  const std::string b = RandomBytes(&rng_, 5);
  ASSERT_OK(store_->Create(1, 4));
  ASSERT_OK(store_->Create(2, 9));
  ASSERT_OK(store_->Create(3, 1));
  ASSERT_OK(store_->Write(1, 0, a));
  ASSERT_OK(store_->Write(2, 100, b));
  ASSERT_OK(store_->Sync(1));
  ASSERT_OK(store_->Sync(2));
  Reopen();
  EXPECT_EQ(store_->List().size(), 3u);
  EXPECT_EQ(store_->Info(1)->version, 4u);
  EXPECT_EQ(store_->Info(2)->version, 9u);
  EXPECT_EQ(store_->Info(3)->length, 0u);
  EXPECT_EQ(MustRead(1, 0, a.size()), a);
  EXPECT_EQ(MustRead(2, 0, 105), std::string(100, '\0') + b);
  EXPECT_EQ(store_->used_bytes(), a.size() + 105);
  EXPECT_TRUE(store_->corrupt_at_open().empty());
}

TEST_F(ChunkStoreTest, SetVersion) {
  ASSERT_OK(store_->Create(kHandle, 1));
  ASSERT_OK(store_->Write(kHandle, 0, "data"));
  ASSERT_OK(store_->SetVersion(kHandle, 1, 2));
  EXPECT_EQ(store_->Info(kHandle)->version, 2u);

  Status s = store_->SetVersion(kHandle, 1, 3);
  ASSERT_CODE(s, StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("version 2"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("expected 1"), std::string::npos) << s.ToString();
  EXPECT_EQ(store_->Info(kHandle)->version, 2u);
  // A retried change that already happened is OK.
  ASSERT_OK(store_->SetVersion(kHandle, 1, 2));

  ASSERT_OK(store_->SetVersion(kHandle, 2, 5));
  Reopen();
  EXPECT_EQ(store_->Info(kHandle)->version, 5u);
  EXPECT_EQ(MustRead(kHandle, 0, 100), "data");
  ASSERT_CODE(store_->SetVersion(kHandle, 2, 6), StatusCode::kFailedPrecondition);
}

TEST_F(ChunkStoreTest, FlippedBitIsDataLossForThatBlockOnly) {
  ASSERT_OK(store_->Create(kHandle, 1));
  const std::string data = RandomBytes(&rng_, 4 * kB);
  ASSERT_OK(store_->Write(kHandle, 0, data));
  FlipDataBit(kHandle, 2 * kB + 1234);

  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE(round == 0 ? "live" : "after reopen");
    Result<std::string> r = store_->Read(kHandle, 2 * kB + 10, 5);
    ASSERT_CODE(r, StatusCode::kDataLoss);
    EXPECT_NE(r.status().message().find("chunk 000000000000002a"), std::string::npos)
        << r.status().ToString();
    EXPECT_NE(r.status().message().find("block 2"), std::string::npos) << r.status().ToString();
    ASSERT_CODE(store_->Read(kHandle, 0, 4 * kB), StatusCode::kDataLoss);
    ASSERT_CODE(store_->Read(kHandle, kB + 5, kB), StatusCode::kDataLoss);
    EXPECT_EQ(MustRead(kHandle, 0, 2 * kB), data.substr(0, 2 * kB));
    EXPECT_EQ(MustRead(kHandle, 3 * kB, kB), data.substr(3 * kB));
    Reopen();
  }
}

TEST_F(ChunkStoreTest, TornWriteDetected) {
  ASSERT_OK(store_->Create(kHandle, 1));
  const std::string data = RandomBytes(&rng_, 3 * kB);
  ASSERT_OK(store_->Write(kHandle, 0, data));
  ASSERT_OK(store_->Sync(kHandle));
  // New bytes reached the data file, the CRC update did not.
  PatchData(kHandle, kB + 100, "new bytes the CRC never saw");
  ASSERT_CODE(store_->Read(kHandle, kB, 10), StatusCode::kDataLoss);
  EXPECT_EQ(MustRead(kHandle, 0, kB), data.substr(0, kB));
  Reopen();
  ASSERT_CODE(store_->Read(kHandle, kB, 10), StatusCode::kDataLoss);
  EXPECT_EQ(MustRead(kHandle, 2 * kB, kB), data.substr(2 * kB));
  // A full overwrite of the block repairs it.
  const std::string fresh = RandomBytes(&rng_, kB);
  ASSERT_OK(store_->Write(kHandle, kB, fresh));
  EXPECT_EQ(MustRead(kHandle, kB, kB), fresh);
}

// A crash after an extending write reached the data file but before its CRC slots did.
TEST_F(ChunkStoreTest, ExtensionWithoutChecksumsDetectedAtOpen) {
  ASSERT_OK(store_->Create(kHandle, 1));
  const std::string data = RandomBytes(&rng_, kB + 10);
  ASSERT_OK(store_->Write(kHandle, 0, data));
  store_.reset();
  // Grows the last partial block and adds two blocks whose CRC slots were never written.
  PatchData(kHandle, kB + 10, RandomBytes(&rng_, 2 * kB + 50));
  Reopen();
  EXPECT_TRUE(store_->corrupt_at_open().empty());
  EXPECT_EQ(store_->Info(kHandle)->length, 3 * kB + 60);
  EXPECT_EQ(MustRead(kHandle, 0, kB), data.substr(0, kB));
  ASSERT_CODE(store_->Read(kHandle, kB, 1), StatusCode::kDataLoss);
  ASSERT_CODE(store_->Read(kHandle, 2 * kB, 1), StatusCode::kDataLoss);
  ASSERT_CODE(store_->Read(kHandle, 3 * kB, 1), StatusCode::kDataLoss);
}

TEST_F(ChunkStoreTest, PartialOverwriteOfCorruptBlockRefused) {
  ASSERT_OK(store_->Create(kHandle, 1));
  const std::string data = RandomBytes(&rng_, 2 * kB + 500);
  ASSERT_OK(store_->Write(kHandle, 0, data));
  FlipDataBit(kHandle, kB + 3);
  const std::string before = ReadFile(ChunkPath(kHandle));

  Status s = store_->Write(kHandle, kB + 100, "patch");
  ASSERT_CODE(s, StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("block 1"), std::string::npos) << s.ToString();
  // Spanning into the bad block from a good one, and appending to a bad last block.
  ASSERT_CODE(store_->Write(kHandle, kB - 10, "0123456789abcdef"), StatusCode::kDataLoss);
  EXPECT_EQ(ReadFile(ChunkPath(kHandle)), before) << "a refused write changed the file";

  FlipDataBit(kHandle, 2 * kB + 1);
  ASSERT_CODE(store_->Write(kHandle, 2 * kB + 500, "append"), StatusCode::kDataLoss);
  EXPECT_EQ(store_->Info(kHandle)->length, 2 * kB + 500);

  // Writes to good blocks still work; a whole-block overwrite replaces the bad one.
  ASSERT_OK(store_->Write(kHandle, 10, "ok"));
  ASSERT_OK(store_->Write(kHandle, kB, std::string(kB, 'z')));
  EXPECT_EQ(MustRead(kHandle, kB, kB), std::string(kB, 'z'));
  EXPECT_EQ(MustRead(kHandle, 0, 12), data.substr(0, 10) + "ok");
}

TEST_F(ChunkStoreTest, DamagedHeaderSkippedAtOpen) {
  for (uint64_t h : {1, 2, 3, 4}) {
    ASSERT_OK(store_->Create(h, 1));
    ASSERT_OK(store_->Write(h, 0, "hello"));
  }
  store_.reset();
  FlipBit(ChunkPath(1), 3);                             // garbled magic
  FlipBit(ChunkPath(2), 26);                            // garbled version byte
  PatchFile(ChunkPath(3), 32, std::string(8, '\x7f'));  // data offset, checksum now wrong
  // A header naming another handle than its file name.
  std::filesystem::copy_file(ChunkPath(4), ChunkPath(5));
  // Garbage longer than a header is reported; an empty file (a crashed Create) and one
  // shorter than a header are removed.
  { std::ofstream(ChunkPath(6)) << std::string(100, 'x'); }
  { std::ofstream(ChunkPath(7)); }
  { std::ofstream(ChunkPath(8)) << "half a header"; }
  { std::ofstream(LegacyMetaPath(9) + ".tmp") << "half"; }

  Reopen();
  std::vector<uint64_t> bad = store_->corrupt_at_open();
  std::sort(bad.begin(), bad.end());
  EXPECT_EQ(bad, (std::vector<uint64_t>{1, 2, 3, 5, 6}));
  std::vector<ChunkInfo> all = store_->List();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].handle, 4u);
  EXPECT_EQ(MustRead(4, 0, 5), "hello");
  ASSERT_CODE(store_->Read(1, 0, 5), StatusCode::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(ChunkPath(7)));
  EXPECT_FALSE(std::filesystem::exists(ChunkPath(8)));
  EXPECT_FALSE(std::filesystem::exists(LegacyMetaPath(9) + ".tmp"));

  // A damaged chunk is cleared by Delete, after which its handle can be created again.
  ASSERT_CODE(store_->Create(1, 2), StatusCode::kAlreadyExists);
  ASSERT_OK(store_->Delete(1));
  EXPECT_FALSE(std::filesystem::exists(ChunkPath(1)));
  ASSERT_OK(store_->Create(1, 2));
  EXPECT_EQ(store_->corrupt_at_open().size(), 4u);
}

// Create syncs nothing; what a crash leaves of a chunk before its first Sync depends on
// what the file system kept. Without data it was nothing anyone relied on: removed.
TEST_F(ChunkStoreTest, ChunkCaughtByACrashBeforeItsFirstSyncIsRemovedOrReported) {
  ASSERT_OK(store_->Create(9, 1));   // header lost, no data: removed quietly
  ASSERT_OK(store_->Create(10, 1));  // header lost, data written: reported
  ASSERT_OK(store_->Write(10, 0, "unsynced"));
  ASSERT_OK(store_->Create(11, 1));  // synced: kept
  ASSERT_OK(store_->Write(11, 0, "synced"));
  ASSERT_OK(store_->Sync(11));
  ASSERT_OK(store_->Create(12, 1));  // header kept, no data: an empty chunk
  store_.reset();
  ASSERT_EQ(::truncate(ChunkPath(9).c_str(), 0), 0);
  PatchFile(ChunkPath(10), 0, std::string(64, '\0'));

  Reopen();
  EXPECT_EQ(store_->corrupt_at_open(), (std::vector<uint64_t>{10}));
  EXPECT_FALSE(std::filesystem::exists(ChunkPath(9)));
  std::vector<ChunkInfo> all = store_->List();
  ASSERT_EQ(all.size(), 2u);
  std::sort(all.begin(), all.end(),
            [](const ChunkInfo& a, const ChunkInfo& b) { return a.handle < b.handle; });
  EXPECT_EQ(all[0].handle, 11u);
  EXPECT_EQ(MustRead(11, 0, 6), "synced");
  EXPECT_EQ(all[1].handle, 12u);
  EXPECT_EQ(all[1].length, 0u);
  ASSERT_OK(store_->Create(9, 2));  // the handle is free again
}

// Writes chunk `handle` in the legacy format: the data in <handle>.chunk, and a
// <handle>.meta sidecar with a format-1 header and the CRCs of the first `crc_blocks`
// blocks (all of them by default).
void WriteLegacyChunk(const std::string& chunk_path, uint64_t handle, uint64_t version,
                      const std::string& data, size_t crc_blocks = SIZE_MAX) {
  auto fixed = [](uint64_t v, int bytes) {
    std::string out;
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
    return out;
  };
  std::string meta = fixed(0x4154454d4b4e4843ull, 8) + fixed(1, 4) + fixed(kB, 4) +
                     fixed(handle, 8) + fixed(version, 8) + std::string(28, '\0');
  meta += fixed(crc32c::Value(meta.data(), meta.size()), 4);
  for (size_t i = 0; i * kB < data.size() && i < crc_blocks; ++i) {
    std::string block = data.substr(i * kB, kB);
    block.resize(kB, '\0');
    meta += fixed(crc32c::Value(block.data(), block.size()), 4);
  }
  const std::string meta_path = chunk_path.substr(0, chunk_path.size() - 6) + ".meta";
  std::ofstream(meta_path, std::ios::binary) << meta;
  std::ofstream(chunk_path, std::ios::binary) << data;
}

TEST_F(ChunkStoreTest, LegacyChunksAreMigratedToOneFile) {
  store_.reset();
  std::filesystem::create_directories(test_dir() + "/data/chunks");
  const std::string whole = RandomBytes(&rng_, 2 * kB + 300);
  WriteLegacyChunk(ChunkPath(1), 1, 7, whole);
  // Its last block's CRC never reached the sidecar: it must stay DataLoss.
  const std::string lagging = RandomBytes(&rng_, 2 * kB + 300);
  WriteLegacyChunk(ChunkPath(2), 2, 3, lagging, /*crc_blocks=*/2);
  WriteLegacyChunk(ChunkPath(3), 3, 1, "");
  // A damaged sidecar beside data: reported, files kept. Beside no data: an
  // interrupted create, removed.
  WriteLegacyChunk(ChunkPath(4), 4, 1, "data");
  FlipBit(LegacyMetaPath(4), 26);
  WriteLegacyChunk(ChunkPath(5), 5, 1, "");
  FlipBit(LegacyMetaPath(5), 26);
  // A migration a crash interrupted before the sidecar was removed: built again.
  const std::string again = RandomBytes(&rng_, kB + 1);
  WriteLegacyChunk(ChunkPath(6), 6, 2, again);
  { std::ofstream(ChunkPath(6, ".chunk.new")) << "half-built"; }
  // One interrupted after: the new file is complete, and only its rename is missing.
  const std::string finished = RandomBytes(&rng_, 3 * kB);
  {
    Result<std::unique_ptr<ChunkStore>> other = ChunkStore::Open(test_dir() + "/other");
    ASSERT_OK(other);
    ASSERT_OK((*other)->Create(8, 4));
    ASSERT_OK((*other)->Write(8, 0, finished));
    ASSERT_OK((*other)->Sync(8));
  }
  std::filesystem::copy_file(test_dir() + "/other/chunks/0000000000000008.chunk",
                             ChunkPath(8, ".chunk.new"));
  { std::ofstream(ChunkPath(8)) << finished; }  // the legacy data file

  Reopen();
  EXPECT_EQ(store_->corrupt_at_open(), (std::vector<uint64_t>{4}));
  for (uint64_t h : {1, 2, 3, 6, 8}) {
    SCOPED_TRACE("chunk " + std::to_string(h));
    EXPECT_FALSE(std::filesystem::exists(LegacyMetaPath(h)));
    EXPECT_FALSE(std::filesystem::exists(ChunkPath(h, ".chunk.new")));
  }
  EXPECT_FALSE(std::filesystem::exists(ChunkPath(5)));
  EXPECT_FALSE(std::filesystem::exists(LegacyMetaPath(5)));
  EXPECT_TRUE(std::filesystem::exists(LegacyMetaPath(4)));

  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE(round == 0 ? "migrated" : "reopened");
    EXPECT_EQ(store_->Info(1)->version, 7u);
    EXPECT_EQ(MustRead(1, 0, whole.size()), whole);
    EXPECT_EQ(store_->Info(2)->version, 3u);
    EXPECT_EQ(MustRead(2, 0, 2 * kB), lagging.substr(0, 2 * kB));
    ASSERT_CODE(store_->Read(2, 2 * kB, 1), StatusCode::kDataLoss);
    EXPECT_EQ(store_->Info(3)->length, 0u);
    EXPECT_EQ(MustRead(6, 0, again.size()), again);
    EXPECT_EQ(store_->Info(8)->version, 4u);
    EXPECT_EQ(MustRead(8, 0, finished.size()), finished);
    EXPECT_EQ(store_->used_bytes(), whole.size() + lagging.size() + again.size() + finished.size());
    Reopen();
  }
  // Migrated chunks take writes like any other; the damaged one is cleared by Delete.
  ASSERT_OK(store_->Write(1, whole.size(), "more"));
  ASSERT_OK(store_->Sync(1));
  EXPECT_EQ(MustRead(1, whole.size() - 2, 6), whole.substr(whole.size() - 2) + "more");
  ASSERT_OK(store_->Delete(4));
  EXPECT_FALSE(std::filesystem::exists(ChunkPath(4)));
  EXPECT_FALSE(std::filesystem::exists(LegacyMetaPath(4)));
}

// A migration that fails for a reason other than damage of the chunk (here its new file
// cannot be created; a full disk is the usual one) fails Open and leaves the legacy
// files as they were, so that a later Open can migrate them.
TEST_F(ChunkStoreTest, MigrationThatCannotWriteFailsOpenAndKeepsTheLegacyFiles) {
  store_.reset();
  std::filesystem::create_directories(ChunkPath(1, ".chunk.new"));  // blocks the new file
  const std::string data = RandomBytes(&rng_, kB + 7);
  WriteLegacyChunk(ChunkPath(1), 1, 5, data);

  Result<std::unique_ptr<ChunkStore>> failed = ChunkStore::Open(test_dir() + "/data");
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("migrating chunk 0000000000000001"), std::string::npos)
      << failed.status().ToString();
  EXPECT_TRUE(std::filesystem::exists(LegacyMetaPath(1)));
  EXPECT_EQ(ReadFile(ChunkPath(1)), data);

  std::filesystem::remove(ChunkPath(1, ".chunk.new"));
  Reopen();
  EXPECT_TRUE(store_->corrupt_at_open().empty());
  EXPECT_EQ(store_->Info(1)->version, 5u);
  EXPECT_EQ(MustRead(1, 0, data.size()), data);
  EXPECT_FALSE(std::filesystem::exists(LegacyMetaPath(1)));
}

TEST_F(ChunkStoreTest, MaxChunkBytesEnforced) {
  ChunkStoreOptions options;
  options.max_chunk_bytes = 4 * kB;
  Reopen(options);
  ASSERT_OK(store_->Create(kHandle, 1));
  ASSERT_OK(store_->Write(kHandle, 4 * kB - 10, std::string(10, 'a')));
  ASSERT_CODE(store_->Write(kHandle, 4 * kB - 10, std::string(11, 'a')),
              StatusCode::kInvalidArgument);
  ASSERT_CODE(store_->Write(kHandle, 4 * kB, "a"), StatusCode::kInvalidArgument);
  ASSERT_CODE(store_->Write(kHandle, ~0ull - 1, "abc"), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Info(kHandle)->length, 4 * kB);
}

TEST_F(ChunkStoreTest, DeleteRemovesFiles) {
  ASSERT_OK(store_->Create(kHandle, 1));
  ASSERT_OK(store_->Create(7, 1));
  ASSERT_OK(store_->Write(kHandle, 0, std::string(1000, 'x')));
  ASSERT_OK(store_->Write(7, 0, std::string(10, 'x')));
  EXPECT_EQ(store_->used_bytes(), 1010u);
  ASSERT_OK(store_->Delete(kHandle));
  EXPECT_FALSE(std::filesystem::exists(ChunkPath(kHandle)));
  EXPECT_EQ(store_->used_bytes(), 10u);
  ASSERT_CODE(store_->Info(kHandle), StatusCode::kNotFound);
  ASSERT_CODE(store_->Read(kHandle, 0, 1), StatusCode::kNotFound);
  ASSERT_CODE(store_->Delete(kHandle), StatusCode::kNotFound);
  ASSERT_OK(store_->Create(kHandle, 2));
  EXPECT_EQ(store_->Info(kHandle)->length, 0u);
  Reopen();
  EXPECT_EQ(store_->List().size(), 2u);
  EXPECT_EQ(store_->Info(kHandle)->version, 2u);
}

TEST_F(ChunkStoreTest, ConcurrentWritersOnDifferentChunks) {
  constexpr int kThreads = 8;
  std::vector<std::string> expected(kThreads);
  std::vector<Status> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(seed() + t);
      const uint64_t handle = 1000 + t;
      Status s = store_->Create(handle, 1);
      std::string model;
      for (int i = 0; s.ok() && i < 40; ++i) {
        const std::string data = RandomBytes(&rng, rng() % (2 * kB));
        const uint64_t offset = rng() % (model.size() + 1);
        s = store_->Write(handle, offset, data);
        if (offset + data.size() > model.size()) model.resize(offset + data.size());
        model.replace(offset, data.size(), data);
        if (s.ok() && i % 10 == 0) s = store_->Read(handle, 0, model.size()).status();
      }
      results[t] = s;
      expected[t] = model;
    });
  }
  // Meanwhile, the store-wide calls run against the writers.
  for (int i = 0; i < 100; ++i) {
    (void)store_->List();
    (void)store_->used_bytes();
  }
  for (std::thread& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_OK(results[t]);
    EXPECT_EQ(MustRead(1000 + t, 0, 64 * kB), expected[t]) << "thread " << t;
  }
}

TEST_F(ChunkStoreTest, ConcurrentWritesAndReadsOnOneChunk) {
  ASSERT_OK(store_->Create(kHandle, 1));
  ASSERT_OK(store_->Write(kHandle, 0, std::string(8 * kB, 'a')));
  std::vector<std::thread> threads;
  std::vector<Status> results(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      Status s;
      for (int i = 0; s.ok() && i < 50; ++i) {
        // Each thread owns the blocks t and t + 4, and writes them partly.
        const uint64_t offset = (t + 4 * (i % 2)) * kB + (i * 997) % kB;
        s = store_->Write(kHandle, offset, std::string(100, static_cast<char>('b' + t)));
        if (s.ok()) s = store_->Read(kHandle, 0, 8 * kB).status();
      }
      results[t] = s;
    });
  }
  for (std::thread& th : threads) th.join();
  for (const Status& s : results) ASSERT_OK(s);
}

// Not a pass/fail check: logs the throughput of the hot path for the record.
TEST_F(ChunkStoreTest, Throughput) {
  constexpr size_t kPiece = 1 << 20;
  constexpr int kPieces = 64;
  ASSERT_OK(store_->Create(kHandle, 1));
  const std::string piece = RandomBytes(&rng_, kPiece);
  using Clock = std::chrono::steady_clock;
  auto start = Clock::now();
  for (int i = 0; i < kPieces; ++i) ASSERT_OK(store_->Write(kHandle, i * kPiece, piece));
  const double write_s = std::chrono::duration<double>(Clock::now() - start).count();
  start = Clock::now();
  ASSERT_OK(store_->Sync(kHandle));
  const double sync_s = std::chrono::duration<double>(Clock::now() - start).count();
  start = Clock::now();
  for (int i = 0; i < kPieces; ++i) {
    Result<std::string> r = store_->Read(kHandle, i * kPiece, kPiece);
    ASSERT_OK(r);
    ASSERT_EQ(r->size(), kPiece);
  }
  const double read_s = std::chrono::duration<double>(Clock::now() - start).count();
  const double mb = kPieces * kPiece / 1e6;
  LOG(INFO) << "ChunkStore 64 MiB in 1 MiB pieces: write " << mb / write_s << " MB/s, read "
            << mb / read_s << " MB/s (sync " << sync_s * 1e3 << " ms)";
  std::cout << "[ throughput ] write " << mb / write_s << " MB/s, read " << mb / read_s
            << " MB/s, sync " << sync_s * 1e3 << " ms\n";
}

}  // namespace
}  // namespace gfs::chunkserver

namespace gfs::chunkserver {
namespace {

// Whether `dir` is on tmpfs, whose files live in the page cache: what a test of page
// cache residency checks means nothing there.
bool OnTmpfs(const std::string& dir) {
  struct statfs fs;
  return ::statfs(dir.c_str(), &fs) == 0 && fs.f_type == TMPFS_MAGIC;
}

// How many of the pages of [offset, offset + length) of `path` are in the page cache.
size_t ResidentPages(const std::string& path, size_t offset, size_t length) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return 0;
  void* map = ::mmap(nullptr, offset + length, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) return 0;
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> resident((offset + length + page - 1) / page);
  size_t count = 0;
  if (::mincore(map, offset + length, resident.data()) == 0) {
    for (size_t i = offset / page; i < resident.size(); ++i) count += resident[i] & 1;
  }
  ::munmap(map, offset + length);
  return count;
}

// A write in parts (as pushed data arrives: gRPC's slices) is the write of their
// concatenation: the same bytes and checksums, whatever the parts' sizes, empty ones and
// more parts than one pwritev takes included, blocks partly covered at either end, and
// pwritev writing less than asked.
TEST_F(ChunkStoreTest, WriteInPartsEqualsWriteOfTheWhole) {
  const uint64_t joined = kHandle, in_parts = kHandle + 1;
  ASSERT_OK(store_->Create(joined, 1));
  ASSERT_OK(store_->Create(in_parts, 1));
  for (int round = 0; round < 40; ++round) {
    const size_t n = round == 0 ? 3000 : rng_() % (3 * kB) + 1;
    const uint64_t offset = rng_() % (4 * kB);
    const std::string data = RandomBytes(&rng_, n);
    std::vector<std::string_view> parts;
    for (size_t at = 0; at < n;) {
      // Round 0: 3000 one-byte parts, more than IOV_MAX.
      const size_t len = round == 0 ? 1 : std::min<size_t>(n - at, rng_() % (kB / 2));
      parts.push_back(std::string_view(data).substr(at, len));  // sometimes empty
      at += len;
    }
    parts.emplace_back();  // an empty last part
    ASSERT_OK(store_->Write(joined, offset, data));
    // Some rounds write in short pieces, as pwritev may.
    g_pwritev_max_bytes = round % 3 == 0 ? rng_() % 5000 + 1 : 0;
    const Status written = store_->WriteParts(in_parts, offset, parts);
    g_pwritev_max_bytes = 0;
    ASSERT_OK(written) << "round " << round;
  }
  Result<ChunkInfo> info = store_->Info(joined);
  ASSERT_OK(info);
  const std::string expected = MustRead(joined, 0, info->length);
  EXPECT_EQ(MustRead(in_parts, 0, info->length + 1), expected);
  // The files match past their headers (which name the handle): checksums and data.
  ASSERT_OK(store_->Sync(joined));
  ASSERT_OK(store_->Sync(in_parts));
  const std::string a = ReadFile(ChunkPath(joined)), b = ReadFile(ChunkPath(in_parts));
  ASSERT_GT(a.size(), 64u);
  EXPECT_TRUE(a.size() == b.size() && a.compare(64, std::string::npos, b, 64) == 0)
      << "the checksums or the data differ";
  // And a reopened store, which verifies every block it reads, reads the same.
  Reopen();
  EXPECT_EQ(MustRead(in_parts, 0, info->length), expected);
}

// A write that fails partway (the disk filled up after some of its bytes landed) leaves
// the chunk as it was: same length, and the bytes past it still read as zeros when a
// later write leaves a gap over them.
TEST_F(ChunkStoreTest, WriteThatFailsPartwayLeavesNoStrayBytes) {
  ASSERT_OK(store_->Create(kHandle, 1));
  ASSERT_OK(store_->Write(kHandle, 0, "0123456789"));
  g_pwritev_max_bytes = 5000;  // the first call lands 5,000 bytes, the next one fails
  g_pwritev_errno = ENOSPC;
  g_pwritev_calls_before_error = 1;
  const Status failed = store_->Write(kHandle, 100, RandomBytes(&rng_, 200 << 10));
  g_pwritev_errno = 0;
  g_pwritev_max_bytes = 0;
  ASSERT_CODE(failed, StatusCode::kResourceExhausted);
  EXPECT_NE(failed.message().find(ChunkPath(kHandle)), std::string::npos) << failed.ToString();
  Result<ChunkInfo> info = store_->Info(kHandle);
  ASSERT_OK(info);
  EXPECT_EQ(info->length, 10u);

  ASSERT_OK(store_->Write(kHandle, 6000, "abcdefghij"));
  const std::string expected = "0123456789" + std::string(5990, '\0') + "abcdefghij";
  EXPECT_EQ(MustRead(kHandle, 0, 7000), expected);
  Reopen();
  EXPECT_EQ(MustRead(kHandle, 0, 7000), expected);
}

TEST_F(ChunkStoreTest, WriteBehindDropsWrittenPagesAndKeepsTheData) {
  if (OnTmpfs(test_dir())) GTEST_SKIP() << test_dir() << " is on tmpfs";
  ChunkStoreOptions options;
  options.write_behind_bytes = 1 << 20;
  Reopen(options);
  ASSERT_OK(store_->Create(kHandle, 1));
  const std::string data = RandomBytes(&rng_, 6 << 20);
  for (size_t off = 0; off < data.size(); off += 256 << 10) {
    ASSERT_OK(store_->Write(kHandle, off, std::string_view(data).substr(off, 256 << 10)));
  }
  // Every MiB written hands the MiB before it to the disk and drops it: the first
  // MiBs are out of the page cache, the last ones (still being written back) may not be.
  const size_t pages_per_mib = (1 << 20) / static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  EXPECT_LT(ResidentPages(ChunkPath(kHandle), DataOffset(kHandle), 3 << 20), pages_per_mib / 2)
      << "written-back pages should have left the page cache";
  // Dropping changes nothing a reader or a sync sees.
  ASSERT_OK(store_->Sync(kHandle));
  EXPECT_EQ(MustRead(kHandle, 0, data.size()), data);
  Reopen(options);
  EXPECT_EQ(MustRead(kHandle, 0, data.size()), data);
}

TEST_F(ChunkStoreTest, WriteBackErrorSeenByWriteBehindFailsEverySync) {
  ChunkStoreOptions options;
  options.write_behind_bytes = 1 << 20;
  Reopen(options);
  ASSERT_OK(store_->Create(kHandle, 1));
  ASSERT_OK(store_->Create(kHandle + 1, 1));
  const std::string data = RandomBytes(&rng_, 4 << 20);
  // The write-behind waits see the failure; the fdatasync that Sync runs later would
  // not (the kernel has handed the error out already), and here it even succeeds.
  g_failing_writeback_errno = EIO;
  for (size_t off = 0; off < data.size(); off += 256 << 10) {
    ASSERT_OK(store_->Write(kHandle, off, std::string_view(data).substr(off, 256 << 10)));
  }
  g_failing_writeback_errno = 0;
  for (int attempt = 0; attempt < 2; ++attempt) {
    Status s = store_->Sync(kHandle);
    ASSERT_FALSE(s.ok()) << "attempt " << attempt << ": a lost write-back was reported durable";
    EXPECT_NE(s.message().find("writing back " + ChunkPath(kHandle)), std::string::npos)
        << s.ToString();
    EXPECT_NE(s.message().find(std::strerror(EIO)), std::string::npos) << s.ToString();
  }
  // Other chunks of the store are not affected.
  ASSERT_OK(store_->Write(kHandle + 1, 0, data));
  EXPECT_OK(store_->Sync(kHandle + 1));
}

TEST_F(ChunkStoreTest, WithoutWriteBehindWrittenPagesStayCached) {
  ChunkStoreOptions options;
  options.write_behind_bytes = 0;
  Reopen(options);
  ASSERT_OK(store_->Create(kHandle, 1));
  const std::string data = RandomBytes(&rng_, 4 << 20);
  ASSERT_OK(store_->Write(kHandle, 0, data));
  const size_t pages = (3 << 20) / static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  EXPECT_EQ(ResidentPages(ChunkPath(kHandle), DataOffset(kHandle), 3 << 20), pages);
}

}  // namespace
}  // namespace gfs::chunkserver

namespace gfs::chunkserver {
namespace {

size_t OpenDescriptors() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    ++n;
  }
  return n;
}

TEST_F(ChunkStoreTest, OpenFilesAreBoundedAndReopenedOnUse) {
  ChunkStoreOptions options;
  options.max_open_chunks = 4;
  Reopen(options);
  const size_t before = OpenDescriptors();
  std::vector<std::string> data;
  for (uint64_t h = 1; h <= 40; ++h) {
    ASSERT_OK(store_->Create(h, 1));
    data.push_back(RandomBytes(&rng_, 1000 + h * 100));
    ASSERT_OK(store_->Write(h, 0, data.back()));
  }
  EXPECT_LE(OpenDescriptors(), before + 4 + 2) << "one descriptor per open chunk";
  // Every operation works on a chunk whose files were closed meanwhile.
  for (uint64_t h = 1; h <= 40; ++h) {
    ASSERT_OK(store_->Sync(h));
    ASSERT_OK(store_->SetVersion(h, 1, 2));
    EXPECT_EQ(MustRead(h, 0, data[h - 1].size()), data[h - 1]) << h;
  }
  ASSERT_OK(store_->Clone(1, 100, 2));
  EXPECT_EQ(MustRead(100, 0, data[0].size()), data[0]);
  ASSERT_OK(store_->Delete(2));
  EXPECT_LE(OpenDescriptors(), before + 2 * 4 + 2);
  Reopen(options);  // opening 40 chunks keeps at most 4 open too
  EXPECT_LE(OpenDescriptors(), before + 2 * 4 + 2);
  EXPECT_EQ(MustRead(40, 0, data[39].size()), data[39]);
  EXPECT_EQ(store_->Info(40)->version, 2u);
}

TEST_F(ChunkStoreTest, ConcurrentUseOfManyChunksThroughFewOpenFiles) {
  ChunkStoreOptions options;
  options.max_open_chunks = 2;
  Reopen(options);
  constexpr int kThreads = 4;
  constexpr uint64_t kChunksPerThread = 8;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(seed() + t);
      for (uint64_t i = 0; i < kChunksPerThread; ++i) {
        const uint64_t h = 1000 * (t + 1) + i;
        const std::string bytes = RandomBytes(&rng, 3 * kB + 17);
        if (!store_->Create(h, 1).ok() || !store_->Write(h, 0, bytes).ok() ||
            !store_->Sync(h).ok()) {
          ++failures;
          continue;
        }
        for (int round = 0; round < 3; ++round) {
          Result<std::string> got = store_->Read(h, 0, bytes.size());
          if (!got.ok() || *got != bytes) ++failures;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace gfs::chunkserver
