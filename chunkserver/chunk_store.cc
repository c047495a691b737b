#include "chunkserver/chunk_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <glog/logging.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cinttypes>
#include <climits>
#include <cstdio>
#include <cstring>
#include <list>
#include <map>
#include <set>

#include "common/crc32c.h"
#include "common/mutex.h"

namespace gfs::chunkserver {
namespace {

constexpr uint64_t kBlock = kChecksumBlockBytes;

// A chunk file's layout (chunk_store.h), all integers little-endian:
//   [0, 8)   magic            [8, 12)  format           [12, 16) block size
//   [16, 24) handle           [24, 32) version          [32, 40) data offset
//   [40, 60) zero             [60, 64) CRC-32C of [0, 60)
//   [64 + 4 * i, 68 + 4 * i)  CRC-32C of data block i
//   [data offset, ...)        the data
// The header is smaller than any disk sector, so rewriting it (SetVersion) cannot tear
// on real hardware; if it does anyway its checksum catches it at Open.
constexpr uint64_t kFileMagic = 0x4b4e554843534647ull;  // "GFSCHUNK"
constexpr uint32_t kFileFormat = 2;
constexpr size_t kHeaderBytes = 64;
constexpr size_t kHeaderCrcOffset = 60;
// Room for the CRCs of a 64 GiB chunk, rounded up to a page: a larger data offset is
// garbage, not a header.
constexpr uint64_t kMaxDataOffset = (kHeaderBytes + 4 * (1ull << 20) + 4095) / 4096 * 4096;

// The format before this one kept the CRCs in a sidecar, <handle>.meta: the same header
// without a data offset (magic "CHNKMETA", format 1), then the CRC slots; the .chunk
// file held only the data. Open migrates such chunks (MigrateLegacyChunks).
constexpr uint64_t kLegacyMetaMagic = 0x4154454d4b4e4843ull;  // "CHNKMETA"
constexpr uint32_t kLegacyFormat = 1;
constexpr uint64_t kMaxLegacyMetaBytes = kHeaderBytes + 4 * (1ull << 20);

// Zeros standing in for the bytes of a block past the end of the data.
const char kZeros[kBlock] = {};

void EncodeFixed32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
void EncodeFixed64(char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
uint32_t DecodeFixed32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}
uint64_t DecodeFixed64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

std::string HandleHex(uint64_t handle) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016" PRIx64, handle);
  return buf;
}
std::string ChunkName(uint64_t handle) { return "chunk " + HandleHex(handle); }

std::string Hex32(uint32_t v) {
  char buf[11];
  std::snprintf(buf, sizeof(buf), "0x%08" PRIx32, v);
  return buf;
}

uint64_t NumBlocks(uint64_t length) { return (length + kBlock - 1) / kBlock; }

// The CRC of a whole block whose first `n` bytes are `data` and the rest zeros.
uint32_t BlockCrc(const char* data, size_t n) {
  uint32_t crc = crc32c::Value(data, n);
  return n < kBlock ? crc32c::Extend(crc, kZeros, kBlock - n) : crc;
}

// Where a new chunk's data starts: past the CRC slots of a chunk of `max_chunk_bytes`,
// rounded up to a page.
uint64_t DataOffsetFor(uint64_t max_chunk_bytes) {
  const uint64_t slots_end = kHeaderBytes + 4 * ((max_chunk_bytes + kBlock - 1) / kBlock);
  return std::min(kMaxDataOffset, (slots_end + 4095) / 4096 * 4096);
}

// The largest data a chunk whose data starts at `data_offset` can hold: one CRC slot per
// block fits before the data.
uint64_t CapacityFor(uint64_t data_offset) { return (data_offset - kHeaderBytes) / 4 * kBlock; }

struct Header {
  uint64_t handle = 0;
  uint64_t version = 0;
  uint64_t data_offset = 0;
};

std::string EncodeHeader(uint64_t magic, uint32_t format, const Header& header) {
  std::string h(kHeaderBytes, '\0');
  EncodeFixed64(&h[0], magic);
  EncodeFixed32(&h[8], format);
  EncodeFixed32(&h[12], static_cast<uint32_t>(kBlock));
  EncodeFixed64(&h[16], header.handle);
  EncodeFixed64(&h[24], header.version);
  if (format != kLegacyFormat) EncodeFixed64(&h[32], header.data_offset);
  EncodeFixed32(&h[kHeaderCrcOffset], crc32c::Value(h.data(), kHeaderCrcOffset));
  return h;
}

std::string EncodeHeader(const Header& header) {
  return EncodeHeader(kFileMagic, kFileFormat, header);
}

// Decodes the kHeaderBytes at `p`, read from `path`, which must name chunk `handle` in
// the given format. DataLoss, naming the path and the fault, if they do not.
Result<Header> DecodeHeader(const char* p, uint64_t magic, uint32_t format, uint64_t handle,
                            const std::string& path) {
  if (DecodeFixed32(p + kHeaderCrcOffset) != crc32c::Value(p, kHeaderCrcOffset)) {
    return Status::DataLoss(path + ": header checksum mismatch");
  }
  if (DecodeFixed64(p) != magic) return Status::DataLoss(path + ": bad magic");
  if (DecodeFixed32(p + 8) != format) {
    return Status::DataLoss(path + ": unknown format " + std::to_string(DecodeFixed32(p + 8)));
  }
  if (DecodeFixed32(p + 12) != kBlock) return Status::DataLoss(path + ": bad block size");
  Header header;
  header.handle = DecodeFixed64(p + 16);
  if (header.handle != handle) {
    return Status::DataLoss(path + ": header names handle " + HandleHex(header.handle));
  }
  header.version = DecodeFixed64(p + 24);
  if (format != kLegacyFormat) {
    header.data_offset = DecodeFixed64(p + 32);
    if (header.data_offset < kHeaderBytes + 4 || header.data_offset > kMaxDataOffset ||
        header.data_offset % 4 != 0) {
      return Status::DataLoss(path + ": bad data offset " + std::to_string(header.data_offset));
    }
  }
  return header;
}

// Reads up to `n` bytes at `offset`, stopping early only at end of file. Returns how
// many bytes were read.
Result<size_t> PReadFull(int fd, char* buf, size_t n, uint64_t offset, const std::string& path) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::pread(fd, buf + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return Status::IOError("pread " + path, errno);
    }
    if (r == 0) break;
    done += static_cast<size_t>(r);
  }
  return done;
}

// Writes all of `parts`, one after another, at `offset`.
Status PWritePartsFull(int fd, const std::vector<std::string_view>& parts, uint64_t offset,
                       const std::string& path) {
  std::vector<struct iovec> iov;
  iov.reserve(std::min<size_t>(parts.size(), IOV_MAX));
  size_t next = 0;  // the first part not handed to pwritev yet
  while (next < parts.size() || !iov.empty()) {
    while (next < parts.size() && iov.size() < IOV_MAX) {
      if (!parts[next].empty()) {
        iov.push_back({const_cast<char*>(parts[next].data()), parts[next].size()});
      }
      ++next;
    }
    if (iov.empty()) break;
    ssize_t r = ::pwritev(fd, iov.data(), static_cast<int>(iov.size()), static_cast<off_t>(offset));
    if (r < 0) {
      if (errno == EINTR) continue;
      return Status::IOError("pwritev " + path, errno);
    }
    if (r == 0) return Status::IOError("pwritev " + path, EIO);  // no progress: never loop
    offset += static_cast<uint64_t>(r);
    // Drop what was written: whole vectors, then the front of a partly written one.
    size_t done = 0;
    auto written = static_cast<size_t>(r);
    while (done < iov.size() && written >= iov[done].iov_len) written -= iov[done++].iov_len;
    iov.erase(iov.begin(), iov.begin() + static_cast<ptrdiff_t>(done));
    if (written > 0) {
      iov.front().iov_base = static_cast<char*>(iov.front().iov_base) + written;
      iov.front().iov_len -= written;
    }
  }
  return Status::OK();
}

Status PWriteFull(int fd, const char* buf, size_t n, uint64_t offset, const std::string& path) {
  return PWritePartsFull(fd, {std::string_view(buf, n)}, offset, path);
}

Status FdataSync(int fd, const std::string& path) {
  while (::fdatasync(fd) != 0) {
    if (errno != EINTR) return Status::IOError("fdatasync " + path, errno);
  }
  return Status::OK();
}

Status SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::IOError("open " + dir, errno);
  Status s;
  while (::fsync(fd) != 0) {
    if (errno != EINTR) {
      s = Status::IOError("fsync " + dir, errno);
      break;
    }
  }
  ::close(fd);
  return s;
}

// Copies `n` bytes at `from_offset` of `from_fd` to `to_offset` of `to_fd`, in the
// kernel. DataLoss if the source ends first.
Status CopyBytes(int from_fd, uint64_t from_offset, const std::string& from_path, int to_fd,
                 uint64_t to_offset, const std::string& to_path, uint64_t n) {
  loff_t in = static_cast<loff_t>(from_offset);
  loff_t out = static_cast<loff_t>(to_offset);
  const uint64_t end = from_offset + n;
  while (static_cast<uint64_t>(in) < end) {
    const ssize_t copied =
        ::copy_file_range(from_fd, &in, to_fd, &out, end - static_cast<uint64_t>(in), 0);
    if (copied < 0 && errno == EINTR) continue;
    if (copied < 0) return Status::IOError("copying " + from_path + " to " + to_path, errno);
    if (copied == 0) return Status::DataLoss(from_path + " is shorter than its recorded length");
  }
  return Status::OK();
}

Result<int> OpenPath(const std::string& path, int flags, mode_t mode = 0644) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0 && (errno == EMFILE || errno == ENFILE)) {
    // Every chunk in the open-file cache keeps a descriptor open.
    return Status::ResourceExhausted("open " + path + ": " + std::strerror(errno) +
                                     " (raise RLIMIT_NOFILE)");
  }
  if (fd < 0) return Status::IOError("open " + path, errno);
  return fd;
}

Status MakeDir(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
    return Status::IOError("mkdir " + path, errno);
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return Status::IOError("stat " + path, errno);
  if (!S_ISDIR(st.st_mode)) return Status::FailedPrecondition(path + " is not a directory");
  return Status::OK();
}

// Parses "<16 lowercase hex digits><suffix>"; false for any other name.
bool ParseName(const std::string& name, const std::string& suffix, uint64_t* handle) {
  if (name.size() != 16 + suffix.size() || name.compare(16, suffix.size(), suffix) != 0) {
    return false;
  }
  uint64_t h = 0;
  for (int i = 0; i < 16; ++i) {
    char c = name[i];
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else {
      return false;
    }
    h = (h << 4) | static_cast<uint64_t>(d);
  }
  *handle = h;
  return true;
}

// Closes a descriptor when it goes out of scope.
class ScopedFd {
 public:
  explicit ScopedFd(int fd) : fd_(fd) {}
  ~ScopedFd() { ::close(fd_); }
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;

 private:
  const int fd_;
};

// One replica. Its fields are only touched under `mu`.
struct Chunk {
  explicit Chunk(uint64_t h) : handle(h) {}
  ~Chunk() {
    if (fd >= 0) ::close(fd);
  }
  Chunk(const Chunk&) = delete;
  Chunk& operator=(const Chunk&) = delete;

  const uint64_t handle;
  Mutex mu;
  // False while Create is still making the files and after Delete removed them;
  // operations that find a chunk that is not live answer NotFound.
  bool live GUARDED_BY(mu) = false;
  uint64_t version GUARDED_BY(mu) = 0;
  uint64_t length GUARDED_BY(mu) = 0;
  // Where the data starts in the file (recorded in its header), and the most data the
  // CRC slots before it can describe.
  uint64_t data_offset GUARDED_BY(mu) = 0;
  uint64_t capacity GUARDED_BY(mu) = 0;
  // crcs[i] is the checksum of block i; size() == NumBlocks(length).
  std::vector<uint32_t> crcs GUARDED_BY(mu);
  // Open while the chunk is in the store's open-file cache; -1 otherwise (OpenFile).
  int fd GUARDED_BY(mu) = -1;
  // Its place in ChunkStoreImpl::open_lru_ (guarded by the store's fd_mu_).
  std::list<std::shared_ptr<Chunk>>::iterator lru_pos;
  bool in_lru = false;
  // Write-behind (ChunkStoreOptions::write_behind_bytes): bytes written since the last
  // hand-over, the end of what was handed over then, and where dropping starts.
  uint64_t written_since_writeback GUARDED_BY(mu) = 0;
  uint64_t writeback_end GUARDED_BY(mu) = 0;
  uint64_t dropped_end GUARDED_BY(mu) = 0;
  // The first error a write-behind wait saw, 0 if none. The kernel reports a failed
  // write-back once per descriptor: the wait that saw it took it from the next
  // fdatasync, so Sync reports it from here instead.
  int writeback_errno GUARDED_BY(mu) = 0;
  // The creation number (ChunkStoreImpl::creations_) whose directory entries the next
  // Sync must make durable; 0 once they are.
  uint64_t creation GUARDED_BY(mu) = 0;
};

// Write-behind for `c` (see ChunkStoreOptions::write_behind_bytes). These calls only
// move pages sooner than the kernel would; a write-back error the wait sees is kept for
// Sync() to return (see Chunk::writeback_errno).
void WriteBehind(Chunk* c) REQUIRES(c->mu) {
  if (c->writeback_end > c->dropped_end) {
    const off_t from = static_cast<off_t>(c->data_offset + c->dropped_end);
    const off_t len = static_cast<off_t>(c->writeback_end - c->dropped_end);
    if (::sync_file_range(c->fd, from, len,
                          SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
                              SYNC_FILE_RANGE_WAIT_AFTER) != 0 &&
        c->writeback_errno == 0) {
      c->writeback_errno = errno;
    }
    ::posix_fadvise(c->fd, from, len, POSIX_FADV_DONTNEED);
    c->dropped_end = c->writeback_end;
  }
  ::sync_file_range(c->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
  c->writeback_end = c->length;
  c->written_since_writeback = 0;
}

// The bytes of one write, given in parts, addressed as one range [0, size()).
class WriteData {
 public:
  // `parts` must outlive this.
  explicit WriteData(const std::vector<std::string_view>& parts) : parts_(parts) {
    starts_.reserve(parts.size());
    for (std::string_view part : parts) {
      starts_.push_back(size_);
      size_ += part.size();
    }
  }

  uint64_t size() const { return size_; }

  // Copies bytes [from, from + n) to `out`.
  void CopyOut(uint64_t from, size_t n, char* out) const {
    ForEachRun(from, n, [&](const char* run, size_t len) {
      std::memcpy(out, run, len);
      out += len;
    });
  }

  // The CRC-32C of bytes [from, from + n).
  uint32_t Crc(uint64_t from, size_t n) const {
    uint32_t crc = 0;
    ForEachRun(from, n, [&](const char* run, size_t len) { crc = crc32c::Extend(crc, run, len); });
    return crc;
  }

 private:
  // Calls fn(bytes, length) for each contiguous run of [from, from + n), in order.
  // REQUIRES: from + n <= size().
  template <typename Fn>
  void ForEachRun(uint64_t from, size_t n, Fn fn) const {
    if (n == 0) return;
    // The last part starting at or before `from` (never an empty one, as from < size).
    size_t i = static_cast<size_t>(std::upper_bound(starts_.begin(), starts_.end(), from) -
                                   starts_.begin()) -
               1;
    uint64_t skip = from - starts_[i];
    for (; n > 0; ++i, skip = 0) {
      const size_t len = std::min<uint64_t>(n, parts_[i].size() - skip);
      if (len > 0) fn(parts_[i].data() + skip, len);
      n -= len;
    }
  }

  const std::vector<std::string_view>& parts_;
  std::vector<uint64_t> starts_;  // where each part begins
  uint64_t size_ = 0;
};

class ChunkStoreImpl : public ChunkStore {
 public:
  ChunkStoreImpl(std::string dir, const ChunkStoreOptions& options)
      : dir_(std::move(dir)), chunks_dir_(dir_ + "/chunks"), options_(options) {
    max_open_chunks_ = options.max_open_chunks;
    if (max_open_chunks_ == 0) {
      struct rlimit files;
      const uint64_t limit = ::getrlimit(RLIMIT_NOFILE, &files) == 0 ? files.rlim_cur : 1024;
      max_open_chunks_ = static_cast<size_t>(std::max<uint64_t>(16, limit / 2));
    }
  }

  Status Load();

  Status Create(uint64_t handle, uint64_t version) override;
  Status SetVersion(uint64_t handle, uint64_t expected, uint64_t new_version) override;
  Result<ChunkInfo> Info(uint64_t handle) override;
  std::vector<ChunkInfo> List() override;
  std::vector<uint64_t> corrupt_at_open() override;
  Status WriteParts(uint64_t handle, uint64_t offset,
                    const std::vector<std::string_view>& parts) override;
  Status ExtendTo(uint64_t handle, uint64_t length) override;
  Status Clone(uint64_t src, uint64_t dst, uint64_t version) override;
  Result<ChunkBytes> ReadBytes(uint64_t handle, uint64_t offset, uint64_t length) override;
  Status Sync(uint64_t handle) override;
  Status Delete(uint64_t handle) override;
  uint64_t used_bytes() override { return used_bytes_.load(); }
  uint64_t capacity_bytes() override;

 private:
  std::string ChunkPath(uint64_t handle) const {
    return chunks_dir_ + "/" + HandleHex(handle) + ".chunk";
  }
  // The sidecar of the legacy format, and the file a migration builds.
  std::string LegacyMetaPath(uint64_t handle) const {
    return chunks_dir_ + "/" + HandleHex(handle) + ".meta";
  }
  std::string MigratingPath(uint64_t handle) const {
    return chunks_dir_ + "/" + HandleHex(handle) + ".chunk.new";
  }

  // Rewrites every chunk in the legacy format (`legacy`: handles with a .meta file) as
  // one file, finishes migrations a crash interrupted (`migrating`: handles with a
  // .chunk.new file), and adds the legacy chunks it cannot read to `corrupt`.
  Status MigrateLegacyChunks(const std::set<uint64_t>& legacy, const std::set<uint64_t>& migrating,
                             std::set<uint64_t>* corrupt);
  // Writes chunk `handle`'s legacy pair as one file at MigratingPath, durably.
  Status BuildMigratedFile(uint64_t handle);

  // The chunk, or null. The caller locks the chunk's mutex afterwards and checks `live`.
  std::shared_ptr<Chunk> Find(uint64_t handle) EXCLUDES(mu_);

  // Loads one chunk from its file; DataLoss means the chunk is damaged. Sets `*length`
  // to its data length, and `*file_size` to the file's size.
  Result<std::shared_ptr<Chunk>> LoadChunk(uint64_t handle, uint64_t* length, uint64_t* file_size);

  // Reads the `e` bytes block `index` holds into `buf` and checks them against its CRC.
  Status ReadAndVerifyBlock(Chunk* c, uint64_t index, size_t e, char* buf) REQUIRES(c->mu);

  // The new CRC of block `index` after writing `data` at `offset`, where the block may
  // be only partly covered by the write.
  Status EdgeBlockCrc(Chunk* c, uint64_t index, uint64_t offset, const WriteData& data,
                      uint32_t* crc) REQUIRES(c->mu);

  Status CreateFile(Chunk* c, uint64_t version) REQUIRES(c->mu);
  // Opens `c`'s file unless it is open, and marks it most recently used; closes the
  // least recently used ones beyond the limit (skipping those in use, and `also_held`,
  // another chunk whose mu the caller holds).
  Status OpenFile(const std::shared_ptr<Chunk>& c, const Chunk* also_held = nullptr) REQUIRES(c->mu)
      EXCLUDES(fd_mu_);
  // Marks `c`'s open file most recently used and enforces the limit.
  void TouchFile(const std::shared_ptr<Chunk>& c, const Chunk* also_held = nullptr) REQUIRES(c->mu)
      EXCLUDES(fd_mu_);
  // Closes `c`'s file and forgets it in the cache.
  void CloseFile(Chunk* c) REQUIRES(c->mu) EXCLUDES(fd_mu_);
  // Makes the directory entries of every chunk created up to `creation` durable: one
  // fsync of the chunks directory covers all creations before it started.
  Status SyncDirectoryThrough(uint64_t creation) EXCLUDES(dir_mu_);

  // Const after construction.
  const std::string dir_;
  const std::string chunks_dir_;
  const ChunkStoreOptions options_;

  // Lock order: a Chunk::mu before mu_. mu_ is a leaf: nothing is locked while it is
  // held, so a slow operation on one chunk never blocks lookups of the others.
  Mutex mu_;
  std::map<uint64_t, std::shared_ptr<Chunk>> chunks_ GUARDED_BY(mu_);
  std::set<uint64_t> corrupt_ GUARDED_BY(mu_);

  // The open-file cache: chunks with an open file, most recently used first.
  size_t max_open_chunks_ = 0;
  Mutex fd_mu_;  // taken after any chunk's mu, which it only ever try-locks
  std::list<std::shared_ptr<Chunk>> open_lru_ GUARDED_BY(fd_mu_);

  // Chunks created so far (numbered from 1), and how many of them have durable
  // directory entries.
  std::atomic<uint64_t> creations_{0};
  Mutex dir_mu_;  // taken after any chunk's mu
  CondVar dir_synced_{&dir_mu_};
  bool dir_syncing_ GUARDED_BY(dir_mu_) = false;
  uint64_t dir_synced_through_ GUARDED_BY(dir_mu_) = 0;

  // Sum of the lengths of live chunks.
  std::atomic<uint64_t> used_bytes_{0};
};

Status ChunkStoreImpl::Load() {
  GFS_RETURN_IF_ERROR(MakeDir(dir_));
  GFS_RETURN_IF_ERROR(MakeDir(chunks_dir_));

  DIR* d = ::opendir(chunks_dir_.c_str());
  if (d == nullptr) return Status::IOError("opendir " + chunks_dir_, errno);
  std::set<uint64_t> files, legacy, migrating;
  std::vector<std::string> temps;
  while (true) {
    errno = 0;
    struct dirent* ent = ::readdir(d);
    if (ent == nullptr) {
      const int err = errno;
      ::closedir(d);
      if (err != 0) return Status::IOError("readdir " + chunks_dir_, err);
      break;
    }
    std::string name = ent->d_name;
    uint64_t h;
    if (ParseName(name, ".chunk", &h)) {
      files.insert(h);
    } else if (ParseName(name, ".meta", &h)) {
      legacy.insert(h);
    } else if (ParseName(name, ".chunk.new", &h)) {
      migrating.insert(h);
    } else if (ParseName(name, ".meta.tmp", &h)) {
      temps.push_back(name);
    } else if (name != "." && name != "..") {
      LOG(WARNING) << "[chunk store " << dir_ << "] ignoring stray file " << name;
    }
  }

  // A sidecar still named .tmp belongs to a Create of an early version that never returned.
  for (const std::string& name : temps) ::unlink((chunks_dir_ + "/" + name).c_str());

  std::set<uint64_t> corrupt;
  if (!legacy.empty() || !migrating.empty()) {
    GFS_RETURN_IF_ERROR(MigrateLegacyChunks(legacy, migrating, &corrupt));
    for (uint64_t h : migrating) files.insert(h);
    for (uint64_t h : legacy) {
      if (corrupt.count(h) == 0 && ::access(ChunkPath(h).c_str(), F_OK) != 0) files.erase(h);
    }
  }

  uint64_t used = 0;
  std::map<uint64_t, std::shared_ptr<Chunk>> loaded;
  for (uint64_t h : files) {
    if (corrupt.count(h) != 0) continue;  // a legacy pair that could not be migrated
    uint64_t length = 0, file_size = 0;
    Result<std::shared_ptr<Chunk>> c = LoadChunk(h, &length, &file_size);
    // Running out of descriptors says nothing about the chunk: fail rather than report
    // healthy replicas as damaged.
    if (c.status().code() == StatusCode::kResourceExhausted) return c.status();
    if (!c.ok()) {
      // Create writes a header, unsynced, and nothing else: a file of at most a header
      // that does not decode is a creation the crash interrupted, which held nothing
      // anyone was told is durable.
      if (c.status().code() == StatusCode::kDataLoss && file_size <= kHeaderBytes) {
        LOG(INFO) << "[chunk store " << dir_ << "] removing " << ChunkName(h)
                  << ": no data and an incomplete header (interrupted create): "
                  << c.status().ToString();
        ::unlink(ChunkPath(h).c_str());
        continue;
      }
      LOG(ERROR) << "[chunk store " << dir_ << "] " << ChunkName(h)
                 << ": damaged, skipped: " << c.status().ToString();
      corrupt.insert(h);
      continue;
    }
    used += length;
    loaded.emplace(h, std::move(*c));
  }
  MutexLock lock(&mu_);
  chunks_ = std::move(loaded);
  corrupt_ = std::move(corrupt);
  used_bytes_ = used;
  LOG(INFO) << "[chunk store " << dir_ << "] opened: " << chunks_.size() << " chunks, " << used
            << " bytes, " << corrupt_.size() << " damaged; crc32c "
            << (crc32c::IsHardwareAccelerated() ? "sse4.2" : "table");
  return Status::OK();
}

Status ChunkStoreImpl::MigrateLegacyChunks(const std::set<uint64_t>& legacy,
                                           const std::set<uint64_t>& migrating,
                                           std::set<uint64_t>* corrupt) {
  // A migration builds <h>.chunk.new whole and makes it durable, then removes <h>.meta,
  // then renames <h>.chunk.new over <h>.chunk, with a directory fsync between the steps.
  // A .chunk.new beside a .meta is thus unfinished (built again); one without is
  // complete but for its rename. Chunks are migrated one at a time, so that the disk
  // needs room for one extra copy of a chunk, not of all of them.
  std::vector<uint64_t> renamed;
  auto finish = [&](uint64_t h) -> Status {
    if (::rename(MigratingPath(h).c_str(), ChunkPath(h).c_str()) != 0) {
      return Status::IOError("rename " + MigratingPath(h) + " to " + ChunkPath(h), errno);
    }
    renamed.push_back(h);
    return Status::OK();
  };
  for (uint64_t h : migrating) {
    if (legacy.count(h) != 0) {
      ::unlink(MigratingPath(h).c_str());
    } else {
      GFS_RETURN_IF_ERROR(finish(h));
    }
  }
  for (uint64_t h : legacy) {
    const Status s = BuildMigratedFile(h);
    if (!s.ok()) ::unlink(MigratingPath(h).c_str());
    // Only damage of the legacy pair itself is the chunk's fault. Anything else (a full
    // disk, an I/O error) fails Open and leaves the legacy files as they were.
    if (!s.ok() && s.code() != StatusCode::kDataLoss) {
      return s.Prepend("migrating " + ChunkName(h) + " to one file");
    }
    if (!s.ok()) {
      // The legacy Create left the sidecar's header unsynced too: an unreadable one
      // beside no data is an interrupted creation, as in LoadChunk. A sidecar without
      // any data file describes nothing left to keep either; the master re-replicates
      // a replica that is gone as it does one reported damaged.
      struct stat st;
      const bool data_empty =
          ::stat(ChunkPath(h).c_str(), &st) != 0 ? errno == ENOENT : st.st_size == 0;
      if (data_empty) {
        LOG(INFO) << "[chunk store " << dir_ << "] removing " << ChunkName(h)
                  << ": no data and an incomplete legacy header (interrupted create): "
                  << s.ToString();
        ::unlink(LegacyMetaPath(h).c_str());
        ::unlink(ChunkPath(h).c_str());
        continue;
      }
      LOG(ERROR) << "[chunk store " << dir_ << "] " << ChunkName(h)
                 << " (legacy format): damaged, skipped: " << s.ToString();
      corrupt->insert(h);
      continue;
    }
    GFS_RETURN_IF_ERROR(SyncDir(chunks_dir_));
    if (::unlink(LegacyMetaPath(h).c_str()) != 0 && errno != ENOENT) {
      return Status::IOError("unlink " + LegacyMetaPath(h), errno);
    }
    GFS_RETURN_IF_ERROR(SyncDir(chunks_dir_));
    GFS_RETURN_IF_ERROR(finish(h));
  }
  // A rename a crash loses is redone at the next Open.
  if (!renamed.empty()) {
    GFS_RETURN_IF_ERROR(SyncDir(chunks_dir_));
    LOG(INFO) << "[chunk store " << dir_ << "] migrated " << renamed.size()
              << " chunks from the legacy format (data file + .meta sidecar) to one file each";
  }
  return Status::OK();
}

Status ChunkStoreImpl::BuildMigratedFile(uint64_t handle) {
  const std::string meta_path = LegacyMetaPath(handle);
  const std::string data_path = ChunkPath(handle);
  GFS_ASSIGN_OR_RETURN(const int meta_fd, OpenPath(meta_path, O_RDONLY));
  const ScopedFd meta_closer(meta_fd);
  struct stat st;
  if (::fstat(meta_fd, &st) != 0) return Status::IOError("fstat " + meta_path, errno);
  const uint64_t meta_size = static_cast<uint64_t>(st.st_size);
  if (meta_size < kHeaderBytes || meta_size > kMaxLegacyMetaBytes) {
    return Status::DataLoss(meta_path + ": bad size " + std::to_string(meta_size));
  }
  std::string meta(meta_size, '\0');
  GFS_ASSIGN_OR_RETURN(size_t got, PReadFull(meta_fd, meta.data(), meta.size(), 0, meta_path));
  if (got != meta_size) return Status::DataLoss(meta_path + ": short read");
  GFS_ASSIGN_OR_RETURN(
      Header header, DecodeHeader(meta.data(), kLegacyMetaMagic, kLegacyFormat, handle, meta_path));

  Result<int> opened = OpenPath(data_path, O_RDONLY);
  if (!opened.ok() && ::access(data_path.c_str(), F_OK) != 0 && errno == ENOENT) {
    return Status::DataLoss(meta_path + ": no data file beside it");
  }
  GFS_ASSIGN_OR_RETURN(const int data_fd, std::move(opened));
  const ScopedFd data_closer(data_fd);
  if (::fstat(data_fd, &st) != 0) return Status::IOError("fstat " + data_path, errno);
  const uint64_t length = static_cast<uint64_t>(st.st_size);
  header.data_offset = std::max(DataOffsetFor(options_.max_chunk_bytes), DataOffsetFor(length));
  if (length > CapacityFor(header.data_offset)) {
    return Status::DataLoss(data_path + ": " + std::to_string(length) + " bytes, too many");
  }

  // The header, then the CRC slots. A block without a slot in the sidecar (a crash
  // between the data write and the CRC write) must go on reading as DataLoss: it gets a
  // CRC that cannot match its current contents.
  const uint64_t stored = (meta_size - kHeaderBytes) / 4;
  const uint64_t nblocks = NumBlocks(length);
  std::string head = EncodeHeader(header);
  head.resize(kHeaderBytes + 4 * nblocks);
  std::memcpy(&head[kHeaderBytes], &meta[kHeaderBytes], 4 * std::min(stored, nblocks));
  std::string buf(kBlock, '\0');
  for (uint64_t i = stored; i < nblocks; ++i) {
    const size_t e = static_cast<size_t>(std::min(kBlock, length - i * kBlock));
    GFS_ASSIGN_OR_RETURN(size_t n, PReadFull(data_fd, buf.data(), e, i * kBlock, data_path));
    EncodeFixed32(&head[kHeaderBytes + 4 * i], ~BlockCrc(buf.data(), n));
  }

  const std::string new_path = MigratingPath(handle);
  GFS_ASSIGN_OR_RETURN(const int new_fd, OpenPath(new_path, O_RDWR | O_CREAT | O_TRUNC));
  const ScopedFd new_closer(new_fd);
  GFS_RETURN_IF_ERROR(PWriteFull(new_fd, head.data(), head.size(), 0, new_path));
  GFS_RETURN_IF_ERROR(
      CopyBytes(data_fd, 0, data_path, new_fd, header.data_offset, new_path, length));
  // A chunk whose data ends before its data offset still gets a file that long.
  if (::ftruncate(new_fd, static_cast<off_t>(header.data_offset + length)) != 0) {
    return Status::IOError("ftruncate " + new_path, errno);
  }
  return FdataSync(new_fd, new_path);
}

Result<std::shared_ptr<Chunk>> ChunkStoreImpl::LoadChunk(uint64_t handle, uint64_t* length,
                                                         uint64_t* file_size) {
  const std::string path = ChunkPath(handle);
  auto c = std::make_shared<Chunk>(handle);
  MutexLock lock(&c->mu);

  GFS_ASSIGN_OR_RETURN(c->fd, OpenPath(path, O_RDWR));
  struct stat st;
  if (::fstat(c->fd, &st) != 0) return Status::IOError("fstat " + path, errno);
  *file_size = static_cast<uint64_t>(st.st_size);
  if (*file_size < kHeaderBytes) {
    return Status::DataLoss(path + ": no complete header (" + std::to_string(*file_size) +
                            " bytes)");
  }
  char head[kHeaderBytes];
  GFS_ASSIGN_OR_RETURN(size_t got, PReadFull(c->fd, head, kHeaderBytes, 0, path));
  if (got != kHeaderBytes) return Status::DataLoss(path + ": short read of the header");
  GFS_ASSIGN_OR_RETURN(const Header header,
                       DecodeHeader(head, kFileMagic, kFileFormat, handle, path));
  c->version = header.version;
  c->data_offset = header.data_offset;
  c->capacity = CapacityFor(header.data_offset);
  c->length = *file_size > c->data_offset ? *file_size - c->data_offset : 0;
  if (c->length > c->capacity) {
    return Status::DataLoss(path + ": " + std::to_string(c->length) +
                            " bytes of data, more than its checksums cover (" +
                            std::to_string(c->capacity) + ")");
  }

  // The slots of blocks whose CRC write a crash lost hold their old value, or zeros (a
  // hole): such blocks read as DataLoss until rewritten, not as whatever is there.
  const uint64_t nblocks = NumBlocks(c->length);
  std::string slots(4 * nblocks, '\0');
  GFS_ASSIGN_OR_RETURN(got, PReadFull(c->fd, slots.data(), slots.size(), kHeaderBytes, path));
  if (got != slots.size()) return Status::DataLoss(path + ": short read of the checksums");
  c->crcs.resize(nblocks);
  for (uint64_t i = 0; i < nblocks; ++i) c->crcs[i] = DecodeFixed32(&slots[4 * i]);
  c->live = true;
  *length = c->length;
  TouchFile(c);  // may close it again at once when there are many chunks
  return c;
}

std::shared_ptr<Chunk> ChunkStoreImpl::Find(uint64_t handle) {
  MutexLock lock(&mu_);
  auto it = chunks_.find(handle);
  return it == chunks_.end() ? nullptr : it->second;
}

Status NotFoundError(uint64_t handle) { return Status::NotFound(ChunkName(handle) + " not found"); }

Status ChunkStoreImpl::Create(uint64_t handle, uint64_t version) {
  auto c = std::make_shared<Chunk>(handle);
  {
    MutexLock lock(&mu_);
    if (chunks_.count(handle) != 0) {
      return Status::AlreadyExists(ChunkName(handle) + " already exists");
    }
    if (corrupt_.count(handle) != 0) {
      return Status::AlreadyExists(ChunkName(handle) +
                                   " has damaged files on disk; delete it first");
    }
    // Published before its file exists (live == false) so that a concurrent Create of
    // the same handle is refused while the slow part below runs without mu_.
    chunks_.emplace(handle, c);
  }
  MutexLock chunk_lock(&c->mu);
  Status s = CreateFile(c.get(), version);
  if (!s.ok()) {
    if (c->fd >= 0) ::close(c->fd);
    c->fd = -1;
    MutexLock lock(&mu_);
    chunks_.erase(handle);
    return s.Prepend("creating " + ChunkName(handle));
  }
  c->version = version;
  c->live = true;
  TouchFile(c);
  VLOG(1) << "[chunk store " << dir_ << "] created " << ChunkName(handle) << " version " << version;
  return Status::OK();
}

Status ChunkStoreImpl::CreateFile(Chunk* c, uint64_t version) {
  // Nothing is synced here: a new chunk holds nothing durable until its first Sync,
  // which makes the file, its header and its directory entry durable (the directory
  // with one fsync for every chunk created since the last one). What a crash leaves
  // earlier (an empty file, or one without a complete header) is removed by Open. A
  // new chunk thus costs no disk flush of its own, which small files feel.
  const std::string path = ChunkPath(c->handle);
  c->fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (c->fd < 0) {
    const int err = errno;
    if (err == EEXIST) return Status::AlreadyExists("stray chunk file " + path);
    return Status::IOError("open " + path, err);
  }
  Header header;
  header.handle = c->handle;
  header.version = version;
  header.data_offset = DataOffsetFor(options_.max_chunk_bytes);
  const std::string encoded = EncodeHeader(header);
  Status s = PWriteFull(c->fd, encoded.data(), encoded.size(), 0, path);
  if (!s.ok()) {
    ::unlink(path.c_str());
    return s;
  }
  c->data_offset = header.data_offset;
  c->capacity = CapacityFor(header.data_offset);
  // Numbered once the entry exists: a directory fsync that starts after reading this
  // number covers it.
  c->creation = creations_.fetch_add(1) + 1;
  return Status::OK();
}

Status ChunkStoreImpl::OpenFile(const std::shared_ptr<Chunk>& c, const Chunk* also_held) {
  if (c->fd < 0) {
    GFS_ASSIGN_OR_RETURN(c->fd, OpenPath(ChunkPath(c->handle), O_RDWR));
  }
  TouchFile(c, also_held);
  return Status::OK();
}

void ChunkStoreImpl::TouchFile(const std::shared_ptr<Chunk>& c, const Chunk* also_held) {
  MutexLock lock(&fd_mu_);
  if (c->in_lru) open_lru_.erase(c->lru_pos);
  open_lru_.push_front(c);
  c->lru_pos = open_lru_.begin();
  c->in_lru = true;
  // Close the least recently used beyond the limit. One in use (its mu held) is
  // skipped, never waited for: its user may be waiting for fd_mu_ right now.
  size_t excess = open_lru_.size() > max_open_chunks_ ? open_lru_.size() - max_open_chunks_ : 0;
  auto it = open_lru_.end();
  while (excess > 0 && it != open_lru_.begin()) {
    --it;
    Chunk* victim = it->get();
    if (victim == c.get() || victim == also_held || !victim->mu.TryLock()) continue;
    if (victim->fd >= 0) ::close(victim->fd);
    victim->fd = -1;
    victim->in_lru = false;
    victim->mu.Unlock();
    it = open_lru_.erase(it);
    --excess;
  }
}

void ChunkStoreImpl::CloseFile(Chunk* c) {
  if (c->fd >= 0) ::close(c->fd);
  c->fd = -1;
  MutexLock lock(&fd_mu_);
  if (c->in_lru) open_lru_.erase(c->lru_pos);
  c->in_lru = false;
}

Status ChunkStoreImpl::SyncDirectoryThrough(uint64_t creation) {
  MutexLock lock(&dir_mu_);
  while (dir_synced_through_ < creation) {
    if (dir_syncing_) {
      dir_synced_.Wait();
      continue;
    }
    dir_syncing_ = true;
    const uint64_t target = creations_.load();
    dir_mu_.Unlock();
    Status s = SyncDir(chunks_dir_);
    dir_mu_.Lock();
    dir_syncing_ = false;
    dir_synced_.SignalAll();
    if (!s.ok()) return s;
    dir_synced_through_ = std::max(dir_synced_through_, target);
  }
  return Status::OK();
}

Status ChunkStoreImpl::SetVersion(uint64_t handle, uint64_t expected, uint64_t new_version) {
  std::shared_ptr<Chunk> c = Find(handle);
  if (c == nullptr) return NotFoundError(handle);
  MutexLock lock(&c->mu);
  if (!c->live) return NotFoundError(handle);
  GFS_RETURN_IF_ERROR(OpenFile(c));
  if (c->version == new_version) return Status::OK();
  if (c->version != expected) {
    return Status::FailedPrecondition(
        ChunkName(handle) + " is at version " + std::to_string(c->version) + ", expected " +
        std::to_string(expected) + " (setting " + std::to_string(new_version) + ")");
  }
  const std::string header = EncodeHeader(Header{handle, new_version, c->data_offset});
  const std::string path = ChunkPath(handle);
  Status s = PWriteFull(c->fd, header.data(), header.size(), 0, path);
  if (s.ok()) s = FdataSync(c->fd, path);
  if (s.ok() && c->creation != 0) {
    s = SyncDirectoryThrough(c->creation);
    if (s.ok()) c->creation = 0;
  }
  if (!s.ok()) return s.Prepend("setting version of " + ChunkName(handle));
  c->version = new_version;
  VLOG(1) << "[chunk store " << dir_ << "] " << ChunkName(handle) << " version " << expected
          << " -> " << new_version;
  return Status::OK();
}

Result<ChunkInfo> ChunkStoreImpl::Info(uint64_t handle) {
  std::shared_ptr<Chunk> c = Find(handle);
  if (c == nullptr) return NotFoundError(handle);
  MutexLock lock(&c->mu);
  if (!c->live) return NotFoundError(handle);
  return ChunkInfo{handle, c->version, c->length};
}

std::vector<ChunkInfo> ChunkStoreImpl::List() {
  std::vector<std::shared_ptr<Chunk>> all;
  {
    MutexLock lock(&mu_);
    all.reserve(chunks_.size());
    for (const auto& [h, c] : chunks_) all.push_back(c);
  }
  std::vector<ChunkInfo> out;
  out.reserve(all.size());
  for (const auto& c : all) {
    MutexLock lock(&c->mu);
    if (c->live) out.push_back(ChunkInfo{c->handle, c->version, c->length});
  }
  return out;
}

std::vector<uint64_t> ChunkStoreImpl::corrupt_at_open() {
  MutexLock lock(&mu_);
  return std::vector<uint64_t>(corrupt_.begin(), corrupt_.end());
}

Status ChunkStoreImpl::ReadAndVerifyBlock(Chunk* c, uint64_t index, size_t e, char* buf) {
  GFS_ASSIGN_OR_RETURN(
      size_t got, PReadFull(c->fd, buf, e, c->data_offset + index * kBlock, ChunkPath(c->handle)));
  if (got != e) {
    return Status::DataLoss(ChunkName(c->handle) + " block " + std::to_string(index) +
                            ": its file is shorter than its recorded length");
  }
  const uint32_t actual = BlockCrc(buf, e);
  if (actual != c->crcs[index]) {
    return Status::DataLoss(ChunkName(c->handle) + " block " + std::to_string(index) +
                            ": checksum mismatch (stored " + Hex32(c->crcs[index]) + ", computed " +
                            Hex32(actual) + ")");
  }
  return Status::OK();
}

Status ChunkStoreImpl::EdgeBlockCrc(Chunk* c, uint64_t index, uint64_t offset,
                                    const WriteData& data, uint32_t* crc) {
  const uint64_t end = offset + data.size();
  const uint64_t bs = index * kBlock;
  const uint64_t ws = std::max(bs, offset);
  const uint64_t we = std::min(bs + kBlock, end);
  if (ws == bs && we == bs + kBlock) {
    *crc = data.Crc(ws - offset, kBlock);
    return Status::OK();
  }
  // Bytes of this block already in the chunk; those past the old end are zeros.
  const size_t existing =
      bs < c->length ? static_cast<size_t>(std::min(kBlock, c->length - bs)) : 0;
  std::string block(std::max<size_t>(existing, we - bs), '\0');
  if (existing > 0) {
    GFS_RETURN_IF_ERROR_PREPEND(ReadAndVerifyBlock(c, index, existing, block.data()),
                                "refusing partial overwrite");
  }
  data.CopyOut(ws - offset, we - ws, block.data() + (ws - bs));
  *crc = BlockCrc(block.data(), block.size());
  return Status::OK();
}

Status ChunkStoreImpl::WriteParts(uint64_t handle, uint64_t offset,
                                  const std::vector<std::string_view>& parts) {
  std::shared_ptr<Chunk> c = Find(handle);
  if (c == nullptr) return NotFoundError(handle);
  const WriteData data(parts);
  const uint64_t n = data.size();
  MutexLock lock(&c->mu);
  if (!c->live) return NotFoundError(handle);
  const uint64_t limit = std::min(options_.max_chunk_bytes, c->capacity);
  if (offset > limit || n > limit - offset) {
    return Status::InvalidArgument("writing " + std::to_string(n) + " bytes at offset " +
                                   std::to_string(offset) + " of " + ChunkName(handle) +
                                   " would pass " + std::to_string(limit) +
                                   " bytes, the most it can hold");
  }
  GFS_RETURN_IF_ERROR(OpenFile(c));
  // Nothing to write changes nothing: in particular it does not extend the chunk.
  if (n == 0) return Status::OK();

  const uint64_t end = offset + n;
  const uint64_t old_len = c->length;
  const uint64_t old_blocks = c->crcs.size();
  const uint64_t first = offset / kBlock;
  const uint64_t last = (end - 1) / kBlock;

  // New CRCs for the touched blocks first..last. Only the first and last block can be
  // partly covered; a partly covered block that already holds data is read and
  // verified (never silently turn a bad block into one with a valid CRC), then its CRC
  // is recomputed over old bytes + new bytes. Fully covered blocks are not read.
  std::vector<uint32_t> touched(last - first + 1);
  GFS_RETURN_IF_ERROR(EdgeBlockCrc(c.get(), first, offset, data, &touched[0]));
  if (last != first) {
    GFS_RETURN_IF_ERROR(EdgeBlockCrc(c.get(), last, offset, data, &touched[last - first]));
  }
  for (uint64_t i = first + 1; i < last; ++i) {
    touched[i - first] = data.Crc(i * kBlock - offset, kBlock);
  }

  const std::string path = ChunkPath(handle);
  Status s = PWritePartsFull(c->fd, parts, c->data_offset + offset, path);
  if (!s.ok()) {
    // Keep "bytes past the length are zeros" true: a failed extension must not leave
    // stray bytes that a later gap-filling write would assume are zeros.
    if (end > old_len && ::ftruncate(c->fd, static_cast<off_t>(c->data_offset + old_len)) != 0) {
      PLOG(WARNING) << "[chunk store " << dir_ << "] ftruncate " << path;
    }
    return s.Prepend("writing " + ChunkName(handle));
  }

  // The slot range written: the touched blocks, plus the blocks of a gap between the
  // old data and this write, which hold only zeros. The old last block keeps its CRC
  // when untouched: its bytes past the old end were already counted as zeros.
  const uint64_t lo = std::min(first, old_blocks);
  const uint64_t new_blocks = std::max(old_blocks, last + 1);
  c->crcs.resize(new_blocks);
  if (lo < first) {
    const uint32_t zero_crc = crc32c::Value(kZeros, kBlock);
    std::fill(c->crcs.begin() + lo, c->crcs.begin() + first, zero_crc);
  }
  std::copy(touched.begin(), touched.end(), c->crcs.begin() + first);
  std::string slots(4 * (last + 1 - lo), '\0');
  for (uint64_t i = lo; i <= last; ++i) EncodeFixed32(&slots[4 * (i - lo)], c->crcs[i]);
  // The in-memory state follows the data even if the CRC write fails: the data is
  // there; the CRCs lag, and after a restart those blocks read as DataLoss.
  if (end > old_len) {
    c->length = end;
    used_bytes_ += end - old_len;
  }
  c->written_since_writeback += n;
  if (options_.write_behind_bytes > 0 &&
      c->written_since_writeback >= options_.write_behind_bytes) {
    WriteBehind(c.get());
  }
  s = PWriteFull(c->fd, slots.data(), slots.size(), kHeaderBytes + 4 * lo, path);
  if (!s.ok()) return s.Prepend("writing checksums of " + ChunkName(handle));
  return Status::OK();
}

Status ChunkStoreImpl::Clone(uint64_t src, uint64_t dst, uint64_t version) {
  std::shared_ptr<Chunk> from = Find(src);
  if (from == nullptr) return NotFoundError(src);
  GFS_RETURN_IF_ERROR(Create(dst, version));
  std::shared_ptr<Chunk> to = Find(dst);
  if (to == nullptr) return NotFoundError(dst);
  // Lock order: the source, then the new chunk (which nobody else knows about yet).
  Status s = [&]() -> Status {
    MutexLock from_lock(&from->mu);
    if (!from->live) return NotFoundError(src);
    GFS_RETURN_IF_ERROR(OpenFile(from));
    MutexLock to_lock(&to->mu);
    GFS_RETURN_IF_ERROR(OpenFile(to, from.get()));
    const std::string from_path = ChunkPath(src);
    const std::string to_path = ChunkPath(dst);
    if (from->length > to->capacity) {
      return Status::InvalidArgument(std::to_string(from->length) + " bytes of data pass " +
                                     to_path + "'s capacity " + std::to_string(to->capacity));
    }
    GFS_RETURN_IF_ERROR(CopyBytes(from->fd, from->data_offset, from_path, to->fd, to->data_offset,
                                  to_path, from->length));
    std::string slots(4 * from->crcs.size(), '\0');
    for (size_t i = 0; i < from->crcs.size(); ++i) EncodeFixed32(&slots[4 * i], from->crcs[i]);
    GFS_RETURN_IF_ERROR(PWriteFull(to->fd, slots.data(), slots.size(), kHeaderBytes, to_path));
    GFS_RETURN_IF_ERROR(FdataSync(to->fd, to_path));
    GFS_RETURN_IF_ERROR(SyncDirectoryThrough(to->creation));
    to->creation = 0;
    to->crcs = from->crcs;
    to->length = from->length;
    used_bytes_ += to->length;
    return Status::OK();
  }();
  if (!s.ok()) {
    (void)Delete(dst);  // no half copy left behind
    return s.Prepend("cloning " + ChunkName(src) + " to " + ChunkName(dst));
  }
  return Status::OK();
}

Status ChunkStoreImpl::ExtendTo(uint64_t handle, uint64_t length) {
  std::shared_ptr<Chunk> c = Find(handle);
  if (c == nullptr) return NotFoundError(handle);
  MutexLock lock(&c->mu);
  if (!c->live) return NotFoundError(handle);
  const uint64_t limit = std::min(options_.max_chunk_bytes, c->capacity);
  if (length > limit) {
    return Status::InvalidArgument("extending " + ChunkName(handle) + " to " +
                                   std::to_string(length) + " bytes would pass " +
                                   std::to_string(limit) + " bytes, the most it can hold");
  }
  GFS_RETURN_IF_ERROR(OpenFile(c));
  const uint64_t old_len = c->length;
  if (length <= old_len) return Status::OK();
  const std::string path = ChunkPath(handle);
  if (::ftruncate(c->fd, static_cast<off_t>(c->data_offset + length)) != 0) {
    return Status::IOError("extending " + path, errno);
  }
  // The old last block keeps its CRC: bytes past the old end already counted as zeros.
  // New blocks hold only zeros.
  const uint64_t old_blocks = c->crcs.size();
  const uint64_t new_blocks = NumBlocks(length);
  c->crcs.resize(new_blocks, crc32c::Value(kZeros, kBlock));
  c->length = length;
  used_bytes_ += length - old_len;
  if (new_blocks == old_blocks) return Status::OK();
  std::string slots(4 * (new_blocks - old_blocks), '\0');
  for (uint64_t i = old_blocks; i < new_blocks; ++i) {
    EncodeFixed32(&slots[4 * (i - old_blocks)], c->crcs[i]);
  }
  Status s = PWriteFull(c->fd, slots.data(), slots.size(), kHeaderBytes + 4 * old_blocks, path);
  if (!s.ok()) return s.Prepend("writing checksums of " + ChunkName(handle));
  return Status::OK();
}

Result<ChunkBytes> ChunkStoreImpl::ReadBytes(uint64_t handle, uint64_t offset, uint64_t length) {
  std::shared_ptr<Chunk> c = Find(handle);
  if (c == nullptr) return NotFoundError(handle);
  MutexLock lock(&c->mu);
  if (!c->live) return NotFoundError(handle);
  GFS_RETURN_IF_ERROR(OpenFile(c));
  if (offset >= c->length || length == 0) return ChunkBytes();
  const uint64_t n = std::min(length, c->length - offset);
  const uint64_t first = offset / kBlock;
  const uint64_t last = (offset + n - 1) / kBlock;
  // Whole blocks are read, since only whole blocks can be verified.
  const uint64_t rs = first * kBlock;
  const uint64_t re = std::min(c->length, (last + 1) * kBlock);
  // Not zero-filled: every byte is read into or the read fails.
  ChunkBytes bytes;
  bytes.buffer.reset(new char[re - rs]);
  char* const buf = bytes.buffer.get();
  const size_t buf_size = static_cast<size_t>(re - rs);
  Result<size_t> got = PReadFull(c->fd, buf, buf_size, c->data_offset + rs, ChunkPath(handle));
  if (!got.ok()) return got.status().Prepend("reading " + ChunkName(handle));
  if (*got != buf_size) {
    return Status::DataLoss(ChunkName(handle) + ": its file is shorter (" +
                            std::to_string(rs + *got) + " bytes) than its recorded length " +
                            std::to_string(c->length));
  }
  for (uint64_t i = first; i <= last; ++i) {
    const size_t off = static_cast<size_t>((i - first) * kBlock);
    const size_t len = static_cast<size_t>(std::min<uint64_t>(kBlock, buf_size - off));
    const uint32_t actual = BlockCrc(buf + off, len);
    if (actual != c->crcs[i]) {
      return Status::DataLoss(ChunkName(handle) + " block " + std::to_string(i) +
                              ": checksum mismatch (stored " + Hex32(c->crcs[i]) + ", computed " +
                              Hex32(actual) + ")");
    }
  }
  bytes.offset = static_cast<size_t>(offset - rs);
  bytes.size = static_cast<size_t>(n);
  return bytes;
}

Status ChunkStoreImpl::Sync(uint64_t handle) {
  std::shared_ptr<Chunk> c = Find(handle);
  if (c == nullptr) return NotFoundError(handle);
  MutexLock lock(&c->mu);
  if (!c->live) return NotFoundError(handle);
  GFS_RETURN_IF_ERROR(OpenFile(c));
  Status s = c->writeback_errno != 0
                 ? Status::IOError("writing back " + ChunkPath(handle), c->writeback_errno)
                 : FdataSync(c->fd, ChunkPath(handle));
  if (s.ok() && c->creation != 0) {
    s = SyncDirectoryThrough(c->creation);
    if (s.ok()) c->creation = 0;
  }
  return s.Prepend("syncing " + ChunkName(handle));
}

Status ChunkStoreImpl::Delete(uint64_t handle) {
  std::shared_ptr<Chunk> c = Find(handle);
  if (c == nullptr) {
    // A chunk damaged at Open has files but no entry; deleting it is how it is cleared
    // (a legacy one may still have its sidecar).
    MutexLock lock(&mu_);
    if (corrupt_.count(handle) == 0) return NotFoundError(handle);
    ::unlink(LegacyMetaPath(handle).c_str());
    if (::unlink(ChunkPath(handle).c_str()) != 0 && errno != ENOENT) {
      return Status::IOError("unlink " + ChunkPath(handle), errno);
    }
    corrupt_.erase(handle);
    return Status::OK();
  }
  MutexLock lock(&c->mu);
  if (!c->live) return NotFoundError(handle);
  const std::string path = ChunkPath(handle);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Status::IOError("unlink " + path, errno).Prepend("deleting " + ChunkName(handle));
  }
  c->live = false;
  CloseFile(c.get());
  used_bytes_ -= c->length;
  MutexLock store_lock(&mu_);
  auto it = chunks_.find(handle);
  if (it != chunks_.end() && it->second == c) chunks_.erase(it);
  return Status::OK();
}

uint64_t ChunkStoreImpl::capacity_bytes() {
  struct statvfs sv;
  if (::statvfs(chunks_dir_.c_str(), &sv) != 0) {
    PLOG(WARNING) << "[chunk store " << dir_ << "] statvfs";
    return 0;
  }
  return static_cast<uint64_t>(sv.f_blocks) * sv.f_frsize;
}

}  // namespace

Result<std::string> ChunkStore::Read(uint64_t handle, uint64_t offset, uint64_t length) {
  GFS_ASSIGN_OR_RETURN(ChunkBytes bytes, ReadBytes(handle, offset, length));
  return std::string(bytes.view());
}

Result<uint64_t> ReadChunkDataOffset(const std::string& path) {
  GFS_ASSIGN_OR_RETURN(const int fd, OpenPath(path, O_RDONLY));
  const ScopedFd closer(fd);
  char head[kHeaderBytes];
  GFS_ASSIGN_OR_RETURN(size_t got, PReadFull(fd, head, kHeaderBytes, 0, path));
  if (got != kHeaderBytes) return Status::DataLoss(path + ": no complete header");
  GFS_ASSIGN_OR_RETURN(const Header header,
                       DecodeHeader(head, kFileMagic, kFileFormat, DecodeFixed64(head + 16), path));
  return header.data_offset;
}

Result<std::unique_ptr<ChunkStore>> ChunkStore::Open(const std::string& dir,
                                                     const ChunkStoreOptions& options) {
  auto store = std::make_unique<ChunkStoreImpl>(dir, options);
  GFS_RETURN_IF_ERROR_PREPEND(store->Load(), "opening chunk store " + dir);
  return std::unique_ptr<ChunkStore>(std::move(store));
}

}  // namespace gfs::chunkserver
