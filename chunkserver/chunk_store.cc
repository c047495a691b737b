#include "chunkserver/chunk_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <glog/logging.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cinttypes>
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

// Sidecar layout, all integers little-endian:
//   [0, 8)   magic            [8, 12)  format           [12, 16) block size
//   [16, 24) handle           [24, 32) version          [32, 60) zero
//   [60, 64) CRC-32C of [0, 60)
//   [64 + 4 * i, 68 + 4 * i)  CRC-32C of data block i
// The header is smaller than any disk sector, so rewriting it (SetVersion) cannot tear
// on real hardware; if it does anyway its checksum catches it at Open.
constexpr uint64_t kMetaMagic = 0x4154454d4b4e4843ull;  // "CHNKMETA"
constexpr uint32_t kMetaFormat = 1;
constexpr size_t kHeaderBytes = 64;
constexpr size_t kHeaderCrcOffset = 60;
// A sidecar larger than this (a 64 GiB chunk's worth of CRCs) is garbage, not metadata.
constexpr uint64_t kMaxMetaBytes = kHeaderBytes + 4 * (1ull << 20);

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

std::string EncodeHeader(uint64_t handle, uint64_t version) {
  std::string h(kHeaderBytes, '\0');
  EncodeFixed64(&h[0], kMetaMagic);
  EncodeFixed32(&h[8], kMetaFormat);
  EncodeFixed32(&h[12], static_cast<uint32_t>(kBlock));
  EncodeFixed64(&h[16], handle);
  EncodeFixed64(&h[24], version);
  EncodeFixed32(&h[kHeaderCrcOffset], crc32c::Value(h.data(), kHeaderCrcOffset));
  return h;
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

Status PWriteFull(int fd, const char* buf, size_t n, uint64_t offset, const std::string& path) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::pwrite(fd, buf + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return Status::IOError("pwrite " + path, errno);
    }
    done += static_cast<size_t>(r);
  }
  return Status::OK();
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

Result<int> OpenFile(const std::string& path, int flags, mode_t mode = 0644) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0 && (errno == EMFILE || errno == ENFILE)) {
    // Every chunk keeps two descriptors open; the limit must allow for that.
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

// One replica. Its fields are only touched under `mu`.
struct Chunk {
  explicit Chunk(uint64_t h) : handle(h) {}
  ~Chunk() {
    if (data_fd >= 0) ::close(data_fd);
    if (meta_fd >= 0) ::close(meta_fd);
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
  // crcs[i] is the checksum of block i; size() == NumBlocks(length).
  std::vector<uint32_t> crcs GUARDED_BY(mu);
  // Open while the chunk is in the store's open-file cache; -1 otherwise (OpenFiles).
  int data_fd GUARDED_BY(mu) = -1;
  int meta_fd GUARDED_BY(mu) = -1;
  // Its place in ChunkStoreImpl::open_lru_ (guarded by the store's fd_mu_).
  std::list<std::shared_ptr<Chunk>>::iterator lru_pos;
  bool in_lru = false;
  // Write-behind (ChunkStoreOptions::write_behind_bytes): bytes written since the last
  // hand-over, the end of what was handed over then, and where dropping starts.
  uint64_t written_since_writeback GUARDED_BY(mu) = 0;
  uint64_t writeback_end GUARDED_BY(mu) = 0;
  uint64_t dropped_end GUARDED_BY(mu) = 0;
  // The creation number (ChunkStoreImpl::creations_) whose directory entries the next
  // Sync must make durable; 0 once they are.
  uint64_t creation GUARDED_BY(mu) = 0;
};

// Write-behind for `c` (see ChunkStoreOptions::write_behind_bytes). Errors are ignored:
// these calls only move pages sooner than the kernel would, and a write error surfaces
// in the fdatasync of Sync().
void WriteBehind(Chunk* c) REQUIRES(c->mu) {
  if (c->writeback_end > c->dropped_end) {
    const off_t from = static_cast<off_t>(c->dropped_end);
    const off_t len = static_cast<off_t>(c->writeback_end - c->dropped_end);
    ::sync_file_range(
        c->data_fd, from, len,
        SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER);
    ::posix_fadvise(c->data_fd, from, len, POSIX_FADV_DONTNEED);
    c->dropped_end = c->writeback_end;
  }
  ::sync_file_range(c->data_fd, 0, 0, SYNC_FILE_RANGE_WRITE);
  c->writeback_end = c->length;
  c->written_since_writeback = 0;
}

class ChunkStoreImpl : public ChunkStore {
 public:
  ChunkStoreImpl(std::string dir, const ChunkStoreOptions& options)
      : dir_(std::move(dir)), chunks_dir_(dir_ + "/chunks"), options_(options) {
    max_open_chunks_ = options.max_open_chunks;
    if (max_open_chunks_ == 0) {
      struct rlimit files;
      const uint64_t limit = ::getrlimit(RLIMIT_NOFILE, &files) == 0 ? files.rlim_cur : 1024;
      max_open_chunks_ = static_cast<size_t>(std::max<uint64_t>(16, limit / 4));
    }
  }

  Status Load();

  Status Create(uint64_t handle, uint64_t version) override;
  Status SetVersion(uint64_t handle, uint64_t expected, uint64_t new_version) override;
  Result<ChunkInfo> Info(uint64_t handle) override;
  std::vector<ChunkInfo> List() override;
  std::vector<uint64_t> corrupt_at_open() override;
  Status Write(uint64_t handle, uint64_t offset, std::string_view data) override;
  Status ExtendTo(uint64_t handle, uint64_t length) override;
  Status Clone(uint64_t src, uint64_t dst, uint64_t version) override;
  Result<ChunkBytes> ReadBytes(uint64_t handle, uint64_t offset, uint64_t length) override;
  Status Sync(uint64_t handle) override;
  Status Delete(uint64_t handle) override;
  uint64_t used_bytes() override { return used_bytes_.load(); }
  uint64_t capacity_bytes() override;

 private:
  std::string DataPath(uint64_t handle) const {
    return chunks_dir_ + "/" + HandleHex(handle) + ".chunk";
  }
  std::string MetaPath(uint64_t handle) const {
    return chunks_dir_ + "/" + HandleHex(handle) + ".meta";
  }

  // The chunk, or null. The caller locks the chunk's mutex afterwards and checks `live`.
  std::shared_ptr<Chunk> Find(uint64_t handle) EXCLUDES(mu_);

  // Loads one chunk from its sidecar and data file; an error means the chunk is damaged.
  // Sets `*length` to its data length.
  Result<std::shared_ptr<Chunk>> LoadChunk(uint64_t handle, uint64_t* length);

  // Reads the `e` bytes block `index` holds into `buf` and checks them against its CRC.
  Status ReadAndVerifyBlock(Chunk* c, uint64_t index, size_t e, char* buf) REQUIRES(c->mu);

  // The new CRC of block `index` after writing `data` at `offset`, where the block may
  // be only partly covered by the write.
  Status EdgeBlockCrc(Chunk* c, uint64_t index, uint64_t offset, std::string_view data,
                      uint32_t* crc) REQUIRES(c->mu);

  Status CreateFiles(Chunk* c, uint64_t version) REQUIRES(c->mu);
  // Opens `c`'s files unless they are open, and marks them most recently used; closes
  // the least recently used ones beyond the limit (skipping those in use, and
  // `also_held`, another chunk whose mu the caller holds).
  Status OpenFiles(const std::shared_ptr<Chunk>& c, const Chunk* also_held = nullptr)
      REQUIRES(c->mu) EXCLUDES(fd_mu_);
  // Marks `c`'s open files most recently used and enforces the limit.
  void TouchFiles(const std::shared_ptr<Chunk>& c, const Chunk* also_held = nullptr) REQUIRES(c->mu)
      EXCLUDES(fd_mu_);
  // Closes `c`'s files and forgets them in the cache.
  void CloseFiles(Chunk* c) REQUIRES(c->mu) EXCLUDES(fd_mu_);
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

  // The open-file cache: chunks with open files, most recently used first.
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
  std::set<uint64_t> metas, datas;
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
    if (ParseName(name, ".meta", &h)) {
      metas.insert(h);
    } else if (ParseName(name, ".chunk", &h)) {
      datas.insert(h);
    } else if (ParseName(name, ".meta.tmp", &h)) {
      temps.push_back(name);
    } else if (name != "." && name != "..") {
      LOG(WARNING) << "[chunk store " << dir_ << "] ignoring stray file " << name;
    }
  }

  // A sidecar still named .tmp belongs to a Create that never returned.
  for (const std::string& name : temps) ::unlink((chunks_dir_ + "/" + name).c_str());

  std::set<uint64_t> corrupt;
  for (uint64_t h : datas) {
    if (metas.count(h) != 0) continue;
    // Data without a sidecar: an empty one is left by a Create that crashed before the
    // sidecar was in place (nothing was acknowledged); anything else is reported.
    struct stat st;
    if (::stat(DataPath(h).c_str(), &st) == 0 && st.st_size == 0) {
      LOG(INFO) << "[chunk store " << dir_ << "] removing " << ChunkName(h)
                << ": empty data file without metadata (interrupted create)";
      ::unlink(DataPath(h).c_str());
      continue;
    }
    LOG(ERROR) << "[chunk store " << dir_ << "] " << ChunkName(h)
               << ": data file without metadata; skipped";
    corrupt.insert(h);
  }
  uint64_t used = 0;
  std::map<uint64_t, std::shared_ptr<Chunk>> loaded;
  for (uint64_t h : metas) {
    uint64_t length = 0;
    Result<std::shared_ptr<Chunk>> c = LoadChunk(h, &length);
    // Running out of descriptors says nothing about the chunk: fail rather than report
    // healthy replicas as damaged.
    if (c.status().code() == StatusCode::kResourceExhausted) return c.status();
    if (!c.ok()) {
      // Create writes no header durably before the first Sync: an unreadable sidecar
      // beside an empty (or missing) data file is a creation the crash interrupted,
      // which held nothing anyone was told is durable.
      struct stat st;
      const bool data_empty =
          ::stat(DataPath(h).c_str(), &st) != 0 ? errno == ENOENT : st.st_size == 0;
      if (c.status().code() == StatusCode::kDataLoss && data_empty) {
        LOG(INFO) << "[chunk store " << dir_ << "] removing " << ChunkName(h)
                  << ": no data and an incomplete header (interrupted create): "
                  << c.status().ToString();
        ::unlink(MetaPath(h).c_str());
        ::unlink(DataPath(h).c_str());
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

Result<std::shared_ptr<Chunk>> ChunkStoreImpl::LoadChunk(uint64_t handle, uint64_t* length) {
  const std::string meta_path = MetaPath(handle);
  const std::string data_path = DataPath(handle);
  auto c = std::make_shared<Chunk>(handle);
  MutexLock lock(&c->mu);

  GFS_ASSIGN_OR_RETURN(c->meta_fd, OpenFile(meta_path, O_RDWR));
  struct stat st;
  if (::fstat(c->meta_fd, &st) != 0) return Status::IOError("fstat " + meta_path, errno);
  const uint64_t meta_size = static_cast<uint64_t>(st.st_size);
  if (meta_size < kHeaderBytes || meta_size > kMaxMetaBytes) {
    return Status::DataLoss(meta_path + ": bad size " + std::to_string(meta_size));
  }
  std::string meta(meta_size, '\0');
  GFS_ASSIGN_OR_RETURN(size_t got, PReadFull(c->meta_fd, meta.data(), meta.size(), 0, meta_path));
  if (got != meta_size) return Status::DataLoss(meta_path + ": short read");

  const uint32_t header_crc = crc32c::Value(meta.data(), kHeaderCrcOffset);
  if (DecodeFixed32(&meta[kHeaderCrcOffset]) != header_crc) {
    return Status::DataLoss(meta_path + ": header checksum mismatch");
  }
  if (DecodeFixed64(&meta[0]) != kMetaMagic) return Status::DataLoss(meta_path + ": bad magic");
  if (DecodeFixed32(&meta[8]) != kMetaFormat) {
    return Status::DataLoss(meta_path + ": unknown format " +
                            std::to_string(DecodeFixed32(&meta[8])));
  }
  if (DecodeFixed32(&meta[12]) != kBlock) return Status::DataLoss(meta_path + ": bad block size");
  if (DecodeFixed64(&meta[16]) != handle) {
    return Status::DataLoss(meta_path + ": header names handle " +
                            HandleHex(DecodeFixed64(&meta[16])));
  }
  c->version = DecodeFixed64(&meta[24]);

  GFS_ASSIGN_OR_RETURN(c->data_fd, OpenFile(data_path, O_RDWR));
  if (::fstat(c->data_fd, &st) != 0) return Status::IOError("fstat " + data_path, errno);
  c->length = static_cast<uint64_t>(st.st_size);

  // A torn append of CRC slots may leave a partial slot; it is ignored like a missing one.
  const uint64_t stored = (meta_size - kHeaderBytes) / 4;
  const uint64_t nblocks = NumBlocks(c->length);
  c->crcs.resize(nblocks);
  for (uint64_t i = 0; i < std::min(stored, nblocks); ++i) {
    c->crcs[i] = DecodeFixed32(&meta[kHeaderBytes + 4 * i]);
  }
  // Slots past the data (its growth was lost in a crash, the CRCs were not) describe
  // nothing and are dropped above. Blocks without a slot (a crash between the data
  // write and the CRC write) must read as DataLoss, not as whatever is there: give
  // them a CRC that cannot match their current contents.
  if (stored < nblocks) {
    LOG(WARNING) << "[chunk store " << dir_ << "] " << ChunkName(handle) << ": blocks " << stored
                 << ".." << nblocks - 1 << " have no checksum; they will read as "
                 << "DataLoss until rewritten";
    std::string buf(kBlock, '\0');
    for (uint64_t i = stored; i < nblocks; ++i) {
      const size_t e = static_cast<size_t>(std::min(kBlock, c->length - i * kBlock));
      GFS_ASSIGN_OR_RETURN(size_t n, PReadFull(c->data_fd, buf.data(), e, i * kBlock, data_path));
      c->crcs[i] = ~BlockCrc(buf.data(), n);
    }
  }
  c->live = true;
  *length = c->length;
  TouchFiles(c);  // may close them again at once when there are many chunks
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
    // Published before its files exist (live == false) so that a concurrent Create of
    // the same handle is refused while the slow part below runs without mu_.
    chunks_.emplace(handle, c);
  }
  MutexLock chunk_lock(&c->mu);
  Status s = CreateFiles(c.get(), version);
  if (!s.ok()) {
    if (c->data_fd >= 0) ::close(c->data_fd);
    if (c->meta_fd >= 0) ::close(c->meta_fd);
    c->data_fd = c->meta_fd = -1;
    MutexLock lock(&mu_);
    chunks_.erase(handle);
    return s.Prepend("creating " + ChunkName(handle));
  }
  c->version = version;
  c->live = true;
  TouchFiles(c);
  VLOG(1) << "[chunk store " << dir_ << "] created " << ChunkName(handle) << " version " << version;
  return Status::OK();
}

Status ChunkStoreImpl::CreateFiles(Chunk* c, uint64_t version) {
  // Nothing is synced here: a new chunk holds nothing durable until its first Sync,
  // which makes the files, the header and their directory entries durable (the
  // directory with one fsync for every chunk created since the last one). What a crash
  // leaves earlier (an empty .chunk, a .meta without a complete header) is removed by
  // Open. A new chunk thus costs no disk flush of its own, which small files feel.
  const std::string meta_path = MetaPath(c->handle);
  const std::string data_path = DataPath(c->handle);
  c->data_fd = ::open(data_path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (c->data_fd < 0) {
    const int err = errno;
    if (err == EEXIST) return Status::AlreadyExists("stray data file " + data_path);
    return Status::IOError("open " + data_path, err);
  }
  c->meta_fd = ::open(meta_path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (c->meta_fd < 0) {
    const int err = errno;
    ::unlink(data_path.c_str());
    if (err == EEXIST) return Status::AlreadyExists("stray metadata file " + meta_path);
    return Status::IOError("open " + meta_path, err);
  }
  const std::string header = EncodeHeader(c->handle, version);
  Status s = PWriteFull(c->meta_fd, header.data(), header.size(), 0, meta_path);
  if (!s.ok()) {
    ::unlink(meta_path.c_str());
    ::unlink(data_path.c_str());
    return s;
  }
  // Numbered once both entries exist: a directory fsync that starts after reading
  // this number covers them.
  c->creation = creations_.fetch_add(1) + 1;
  return Status::OK();
}

Status ChunkStoreImpl::OpenFiles(const std::shared_ptr<Chunk>& c, const Chunk* also_held) {
  if (c->data_fd < 0) {
    GFS_ASSIGN_OR_RETURN(const int data_fd, OpenFile(DataPath(c->handle), O_RDWR));
    Result<int> meta_fd = OpenFile(MetaPath(c->handle), O_RDWR);
    if (!meta_fd.ok()) {
      ::close(data_fd);
      return meta_fd.status();
    }
    c->data_fd = data_fd;
    c->meta_fd = *meta_fd;
  }
  TouchFiles(c, also_held);
  return Status::OK();
}

void ChunkStoreImpl::TouchFiles(const std::shared_ptr<Chunk>& c, const Chunk* also_held) {
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
    if (victim->data_fd >= 0) ::close(victim->data_fd);
    if (victim->meta_fd >= 0) ::close(victim->meta_fd);
    victim->data_fd = victim->meta_fd = -1;
    victim->in_lru = false;
    victim->mu.Unlock();
    it = open_lru_.erase(it);
    --excess;
  }
}

void ChunkStoreImpl::CloseFiles(Chunk* c) {
  if (c->data_fd >= 0) ::close(c->data_fd);
  if (c->meta_fd >= 0) ::close(c->meta_fd);
  c->data_fd = c->meta_fd = -1;
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
  GFS_RETURN_IF_ERROR(OpenFiles(c));
  if (c->version == new_version) return Status::OK();
  if (c->version != expected) {
    return Status::FailedPrecondition(
        ChunkName(handle) + " is at version " + std::to_string(c->version) + ", expected " +
        std::to_string(expected) + " (setting " + std::to_string(new_version) + ")");
  }
  const std::string header = EncodeHeader(handle, new_version);
  const std::string meta_path = MetaPath(handle);
  Status s = PWriteFull(c->meta_fd, header.data(), header.size(), 0, meta_path);
  if (s.ok()) s = FdataSync(c->meta_fd, meta_path);
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
  GFS_ASSIGN_OR_RETURN(size_t got,
                       PReadFull(c->data_fd, buf, e, index * kBlock, DataPath(c->handle)));
  if (got != e) {
    return Status::DataLoss(ChunkName(c->handle) + " block " + std::to_string(index) +
                            ": data file is shorter than its recorded length");
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
                                    std::string_view data, uint32_t* crc) {
  const uint64_t end = offset + data.size();
  const uint64_t bs = index * kBlock;
  const uint64_t ws = std::max(bs, offset);
  const uint64_t we = std::min(bs + kBlock, end);
  if (ws == bs && we == bs + kBlock) {
    *crc = crc32c::Value(data.data() + (ws - offset), kBlock);
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
  std::memcpy(block.data() + (ws - bs), data.data() + (ws - offset), we - ws);
  *crc = BlockCrc(block.data(), block.size());
  return Status::OK();
}

Status ChunkStoreImpl::Write(uint64_t handle, uint64_t offset, std::string_view data) {
  std::shared_ptr<Chunk> c = Find(handle);
  if (c == nullptr) return NotFoundError(handle);
  const uint64_t n = data.size();
  if (offset > options_.max_chunk_bytes || n > options_.max_chunk_bytes - offset) {
    return Status::InvalidArgument("writing " + std::to_string(n) + " bytes at offset " +
                                   std::to_string(offset) + " of " + ChunkName(handle) +
                                   " would pass the maximum chunk size " +
                                   std::to_string(options_.max_chunk_bytes));
  }
  MutexLock lock(&c->mu);
  if (!c->live) return NotFoundError(handle);
  GFS_RETURN_IF_ERROR(OpenFiles(c));
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
    touched[i - first] = crc32c::Value(data.data() + (i * kBlock - offset), kBlock);
  }

  const std::string data_path = DataPath(handle);
  Status s = PWriteFull(c->data_fd, data.data(), n, offset, data_path);
  if (!s.ok()) {
    // Keep "bytes past the length are zeros" true: a failed extension must not leave
    // stray bytes that a later gap-filling write would assume are zeros.
    if (end > old_len && ::ftruncate(c->data_fd, static_cast<off_t>(old_len)) != 0) {
      PLOG(WARNING) << "[chunk store " << dir_ << "] ftruncate " << data_path;
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
  // The in-memory state follows the data file even if the CRC write fails: the data is
  // there; the sidecar lags, and after a restart those blocks read as DataLoss.
  if (end > old_len) {
    c->length = end;
    used_bytes_ += end - old_len;
  }
  c->written_since_writeback += n;
  if (options_.write_behind_bytes > 0 &&
      c->written_since_writeback >= options_.write_behind_bytes) {
    WriteBehind(c.get());
  }
  const std::string meta_path = MetaPath(handle);
  s = PWriteFull(c->meta_fd, slots.data(), slots.size(), kHeaderBytes + 4 * lo, meta_path);
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
    GFS_RETURN_IF_ERROR(OpenFiles(from));
    MutexLock to_lock(&to->mu);
    GFS_RETURN_IF_ERROR(OpenFiles(to, from.get()));
    const std::string from_path = DataPath(src);
    const std::string to_path = DataPath(dst);
    loff_t in = 0, out = 0;
    while (static_cast<uint64_t>(in) < from->length) {
      const ssize_t n = ::copy_file_range(from->data_fd, &in, to->data_fd, &out,
                                          from->length - static_cast<uint64_t>(in), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Status::IOError("copying " + from_path + " to " + to_path, errno);
      if (n == 0) return Status::DataLoss(from_path + " is shorter than its recorded length");
    }
    std::string slots(4 * from->crcs.size(), '\0');
    for (size_t i = 0; i < from->crcs.size(); ++i) EncodeFixed32(&slots[4 * i], from->crcs[i]);
    GFS_RETURN_IF_ERROR(
        PWriteFull(to->meta_fd, slots.data(), slots.size(), kHeaderBytes, MetaPath(dst)));
    GFS_RETURN_IF_ERROR(FdataSync(to->data_fd, to_path));
    GFS_RETURN_IF_ERROR(FdataSync(to->meta_fd, MetaPath(dst)));
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
  if (length > options_.max_chunk_bytes) {
    return Status::InvalidArgument("extending " + ChunkName(handle) + " to " +
                                   std::to_string(length) + " bytes would pass the maximum " +
                                   std::to_string(options_.max_chunk_bytes));
  }
  MutexLock lock(&c->mu);
  if (!c->live) return NotFoundError(handle);
  GFS_RETURN_IF_ERROR(OpenFiles(c));
  const uint64_t old_len = c->length;
  if (length <= old_len) return Status::OK();
  const std::string data_path = DataPath(handle);
  if (::ftruncate(c->data_fd, static_cast<off_t>(length)) != 0) {
    return Status::IOError("extending " + data_path, errno);
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
  Status s = PWriteFull(c->meta_fd, slots.data(), slots.size(), kHeaderBytes + 4 * old_blocks,
                        MetaPath(handle));
  if (!s.ok()) return s.Prepend("writing checksums of " + ChunkName(handle));
  return Status::OK();
}

Result<ChunkBytes> ChunkStoreImpl::ReadBytes(uint64_t handle, uint64_t offset, uint64_t length) {
  std::shared_ptr<Chunk> c = Find(handle);
  if (c == nullptr) return NotFoundError(handle);
  MutexLock lock(&c->mu);
  if (!c->live) return NotFoundError(handle);
  GFS_RETURN_IF_ERROR(OpenFiles(c));
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
  const std::string data_path = DataPath(handle);
  Result<size_t> got = PReadFull(c->data_fd, buf, buf_size, rs, data_path);
  if (!got.ok()) return got.status().Prepend("reading " + ChunkName(handle));
  if (*got != buf_size) {
    return Status::DataLoss(ChunkName(handle) + ": data file is shorter (" +
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
  GFS_RETURN_IF_ERROR(OpenFiles(c));
  Status s = FdataSync(c->data_fd, DataPath(handle));
  if (s.ok()) s = FdataSync(c->meta_fd, MetaPath(handle));
  if (s.ok() && c->creation != 0) {
    s = SyncDirectoryThrough(c->creation);
    if (s.ok()) c->creation = 0;
  }
  return s.Prepend("syncing " + ChunkName(handle));
}

Status ChunkStoreImpl::Delete(uint64_t handle) {
  std::shared_ptr<Chunk> c = Find(handle);
  if (c == nullptr) {
    // A chunk damaged at Open has files but no entry; deleting it is how it is cleared.
    MutexLock lock(&mu_);
    if (corrupt_.count(handle) == 0) return NotFoundError(handle);
    ::unlink(MetaPath(handle).c_str());
    if (::unlink(DataPath(handle).c_str()) != 0 && errno != ENOENT) {
      return Status::IOError("unlink " + DataPath(handle), errno);
    }
    corrupt_.erase(handle);
    return Status::OK();
  }
  MutexLock lock(&c->mu);
  if (!c->live) return NotFoundError(handle);
  // The sidecar goes first: without it the chunk no longer exists for Open, and a data
  // file left by a crash here is reported rather than resurrected.
  const std::string meta_path = MetaPath(handle);
  if (::unlink(meta_path.c_str()) != 0 && errno != ENOENT) {
    return Status::IOError("unlink " + meta_path, errno).Prepend("deleting " + ChunkName(handle));
  }
  c->live = false;
  if (::unlink(DataPath(handle).c_str()) != 0 && errno != ENOENT) {
    PLOG(WARNING) << "[chunk store " << dir_ << "] unlink " << DataPath(handle);
  }
  CloseFiles(c.get());
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

Result<std::unique_ptr<ChunkStore>> ChunkStore::Open(const std::string& dir,
                                                     const ChunkStoreOptions& options) {
  auto store = std::make_unique<ChunkStoreImpl>(dir, options);
  GFS_RETURN_IF_ERROR_PREPEND(store->Load(), "opening chunk store " + dir);
  return std::unique_ptr<ChunkStore>(std::move(store));
}

}  // namespace gfs::chunkserver
