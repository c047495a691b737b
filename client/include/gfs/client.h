// The gfs client library: the one public header of libgfs_client.
//
//   auto client = gfs::Client::Connect("10.0.0.1:7000");
//   if (!client.ok()) ...;
//   gfs::Status s = (*client)->Mkdir("/logs", /*parents=*/true);
//
// Every call has a deadline (ClientOptions::rpc_timeout per attempt, overall
// ClientOptions::operation_timeout) and is retried with exponential backoff while the
// master is UNAVAILABLE, trying each address of the master list in turn. Errors come
// back as gfs::Status values whose codes are gRPC's (DESIGN.md, "Errors"); their
// messages name the path and the reason.
//
// Data moves between the client and the chunkservers directly (DESIGN.md, "Processes
// and the path of a byte"):
//
//   auto writer = (*client)->Create("/logs/a", /*replication=*/0, /*overwrite=*/false);
//   GFS_RETURN_IF_ERROR((*writer)->Write(bytes));
//   GFS_RETURN_IF_ERROR((*writer)->Close());  // durable on every replica
//   auto reader = (*client)->Open("/logs/a");
//   auto n = (*reader)->Read(buf, sizeof(buf));  // 0 at end of file
//
// Thread-safe: one Client may be shared by any number of threads. FileWriter and
// FileReader objects are not: drive each from one thread at a time.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gfs/status.h"

namespace gfs {

struct ClientOptions {
  // Deadline of one RPC attempt.
  std::chrono::milliseconds rpc_timeout{10000};
  // Total time an operation may spend retrying UNAVAILABLE before giving up.
  std::chrono::milliseconds operation_timeout{30000};
  // First and largest pause between retries; the pause doubles each time.
  std::chrono::milliseconds initial_backoff{50};
  std::chrono::milliseconds max_backoff{2000};

  // ---- Data path ----
  // How many chunks a large write or read moves at once.
  int parallel_chunks = 4;
  // Bytes per write mutation; a mutation never crosses a chunk boundary. A FileWriter
  // buffers at most parallel_chunks * write_unit_bytes plus the unit being filled.
  size_t write_unit_bytes = 8 << 20;
  // Size of one message of the PushData stream.
  size_t push_piece_bytes = 1 << 20;
  // A write mutation or record append of at most this many bytes carries its data in
  // its call to the primary, which hands it on to the secondaries, instead of pushing it
  // along the chain of replicas first (a push stream through every replica saved per
  // small write). 0 pushes everything; the chunkservers take at most 64 KiB this way, so
  // larger values act as 64 KiB.
  size_t inline_write_bytes = 64 << 10;
  // Total time one chunk mutation or one chunk read may spend retrying before it gives
  // up with an error naming the path and offset.
  std::chrono::milliseconds data_timeout{60000};
};

enum class FileType { kFile, kDirectory };

// What Stat and List return about one path.
struct FileInfo {
  std::string name;  // last path component ("" for "/")
  FileType type = FileType::kFile;
  uint64_t inode_id = 0;
  int64_t mtime_us = 0;      // microseconds since the Unix epoch
  uint32_t replication = 0;  // files only
  uint64_t size = 0;         // files only, bytes
  uint64_t chunk_size = 0;   // files only
  bool is_directory() const { return type == FileType::kDirectory; }
};

// One page of a directory listing.
struct DirectoryPage {
  std::vector<FileInfo> entries;  // in byte order of names
  bool has_more = false;
  std::string next_start_after;  // pass to the next List call when has_more
};

// Where the master's operation log stands.
struct MasterPosition {
  uint64_t epoch = 0;
  uint64_t applied_index = 0;
};

// The master's counters since it started.
struct MasterStatus {
  MasterPosition applied;
  uint64_t proposals = 0;       // mutations proposed to the op log
  uint64_t logged_entries = 0;  // entries that changed state
  uint64_t synced_writes = 0;   // fsync'd commits (group commit: fewer than entries)
};

// One chunk of a file and where its up-to-date replicas are.
struct ChunkLocation {
  uint64_t index = 0;  // the chunk covers bytes [index * chunk_size, (index + 1) * chunk_size)
  uint64_t handle = 0;
  uint64_t version = 0;
  std::vector<std::string> replicas;          // "host:port" of live replicas holding `version`
  std::string primary;                        // the lease holder; empty when no lease is held
  std::vector<std::string> corrupt_replicas;  // replicas that failed a checksum
};

// A chunkserver as the master sees it (gfs admin report).
struct ChunkServerInfo {
  std::string address;
  std::string rack;
  bool alive = false;
  uint64_t chunks = 0;  // replicas the master knows it holds
  uint64_t used_bytes = 0;
  uint64_t capacity_bytes = 0;
  int64_t last_heartbeat_ms_ago = 0;
};

// A stream of bytes into one file, from the offset it was opened at onward. Write
// buffers and sends in the background; Sync and Close return once every byte written
// so far is on disk (fdatasync) on every replica and the file's length covers it.
// Destroying a writer without Close abandons unsent data and does not sync.
//
// Not thread-safe: one thread at a time.
class FileWriter {
 public:
  virtual ~FileWriter() = default;

  // Appends `data` to the stream at position(). May return before the bytes reach the
  // chunkservers; a failure of earlier bytes may be reported here, by Sync or by Close,
  // as "write /path at offset N: <reason>". After a failure every call fails.
  virtual Status Write(std::string_view data) = 0;

  // Returns once every byte written so far is durable on every replica and the file's
  // length at the master is at least position().
  virtual Status Sync() = 0;

  // Sync, then releases the writer's threads. Idempotent: later calls return the first
  // call's status. Write after Close is FailedPrecondition.
  virtual Status Close() = 0;

  // The file offset the next Write goes to.
  virtual uint64_t position() const = 0;
};

// Reads one file: sequentially with Read (reading ahead), or at any offset with ReadAt.
// A hole (a chunk never written) and bytes past a replica's data but within the file
// reads as zeros. Errors name the path and offset: "read /path at offset N: <reason>".
//
// Not thread-safe: one thread at a time.
class FileReader {
 public:
  virtual ~FileReader() = default;

  // Reads up to `n` bytes at the current position into `buf` and advances past them.
  // Returns 0 at the end of the file (as it was at open).
  virtual Result<size_t> Read(char* buf, size_t n) = 0;

  // Reads up to `n` bytes at `offset` into `buf`; fewer only at the end of the file.
  // Does not move the position of Read.
  virtual Result<size_t> ReadAt(uint64_t offset, char* buf, size_t n) = 0;

  // The file's length when it was opened.
  virtual uint64_t size() const = 0;
};

class Client {
 public:
  // Connects to a comma-separated list of master addresses ("host:port,host:port").
  // Returns InvalidArgument if the list is empty or malformed. Does not contact the
  // master: the first call does.
  static Result<std::unique_ptr<Client>> Connect(const std::string& masters,
                                                 const ClientOptions& options = {});

  virtual ~Client() = default;

  // An empty round trip to the master; returns its log position.
  virtual Result<MasterPosition> Ping() = 0;

  // The master's counters.
  virtual Result<MasterStatus> GetMasterStatus() = 0;

  // Every chunkserver the master has heard from since it started.
  virtual Result<std::vector<ChunkServerInfo>> ListChunkServers() = 0;

  // Creates a directory. With `parents`, creates missing ancestors too and succeeds if
  // `path` already is a directory. Returns AlreadyExists if `path` exists (without
  // `parents`), NotFound if the parent is missing (without `parents`),
  // FailedPrecondition if an ancestor is a file.
  virtual Status Mkdir(const std::string& path, bool parents = false) = 0;

  // Creates an empty file with `replication` replicas per chunk (0: the master's
  // default). Returns AlreadyExists if `path` exists, unless `ok_if_exists` and it is a
  // file. Returns NotFound if the parent directory is missing.
  virtual Result<FileInfo> CreateFile(const std::string& path, uint32_t replication = 0,
                                      bool ok_if_exists = false) = 0;

  // Returns the attributes of `path`, or NotFound.
  virtual Result<FileInfo> Stat(const std::string& path) = 0;

  // Returns one page of the entries of directory `path` (or the file itself when `path`
  // is a file), starting after `start_after`, at most `limit` (0: server default).
  virtual Result<DirectoryPage> ListPage(const std::string& path,
                                         const std::string& start_after = "",
                                         uint32_t limit = 0) = 0;

  // Calls `fn` for every entry of `path`, fetching page after page; stops early when
  // `fn` returns false.
  virtual Status ListEach(const std::string& path,
                          const std::function<bool(const FileInfo&)>& fn) = 0;

  // All entries of `path`. For very large directories prefer ListEach.
  virtual Result<std::vector<FileInfo>> List(const std::string& path) = 0;

  // Deletes a file or directory, lazily: it leaves the namespace at once but stays
  // recoverable with Undelete for the master's --trash_retention_s, and its space is
  // reclaimed after that. A non-empty directory needs `recursive`, else
  // FailedPrecondition. Deleting "/" is InvalidArgument.
  virtual Status Delete(const std::string& path, bool recursive = false) = 0;

  // Brings back the most recently deleted file or directory that was at `path`.
  // NotFound if there is none in the trash (never deleted, or purged); AlreadyExists if
  // `path` exists again.
  virtual Status Undelete(const std::string& path) = 0;

  // Makes `dst` a copy-on-write snapshot of the file or directory tree at `src`: it
  // shares src's chunks until either side writes them. NotFound if `src` is missing,
  // AlreadyExists if `dst` exists, InvalidArgument if `dst` lies inside `src`.
  virtual Status Snapshot(const std::string& src, const std::string& dst) = 0;

  // Renames a file or directory. Returns AlreadyExists if `dst` exists, NotFound if
  // `src` or `dst`'s parent is missing, InvalidArgument when moving a directory into
  // its own subtree.
  virtual Status Rename(const std::string& src, const std::string& dst) = 0;

  // ---- Data ----

  // Every chunk of file `path` with its replicas (missing indexes are holes). Returns
  // NotFound if `path` does not exist, FailedPrecondition if it is a directory.
  virtual Result<std::vector<ChunkLocation>> GetChunkLocations(const std::string& path) = 0;

  // Creates file `path` (`replication` replicas per chunk, 0: the master's default) and
  // returns a writer at offset 0. Returns AlreadyExists if `path` exists, unless
  // `overwrite` and it is a file, which is then deleted first; a directory is never
  // overwritten.
  virtual Result<std::unique_ptr<FileWriter>> Create(const std::string& path,
                                                     uint32_t replication = 0,
                                                     bool overwrite = false) = 0;

  // Returns a writer on the existing file `path` that writes from `offset` on,
  // overwriting what is there and extending the file past its end. Returns NotFound if
  // `path` does not exist, FailedPrecondition if it is a directory.
  virtual Result<std::unique_ptr<FileWriter>> OpenForWrite(const std::string& path,
                                                           uint64_t offset) = 0;

  // Returns a reader of the existing file `path`. NotFound if it does not exist,
  // FailedPrecondition if it is a directory.
  virtual Result<std::unique_ptr<FileReader>> Open(const std::string& path) = 0;

  // Writes `data` at `offset` of the existing file `path`; durable on every replica when
  // it returns OK. The default implementation uses OpenForWrite.
  virtual Status WriteAt(const std::string& path, uint64_t offset, std::string_view data);

  // Reads up to `length` bytes at `offset` of `path`; shorter only at the end of the
  // file. The default implementation uses Open.
  virtual Result<std::string> ReadAt(const std::string& path, uint64_t offset, size_t length);

  // Record append: adds `record` to the end of file `path` at an offset the chunk's
  // primary chooses, atomically (the record lands whole, identically on every replica,
  // never split across chunks) and returns that file offset. At-least-once: after a
  // failure inside the system the retried record may also have left a copy or padding
  // behind (see RecordWriter/RecordReader in <gfs/records.h> for exactly-once reading).
  // Records may be 1 byte to a quarter of the file's chunk size, else InvalidArgument.
  // Many clients may append to one file at once; the file's length grows past each
  // acknowledged record.
  virtual Result<uint64_t> Append(const std::string& path, std::string_view record) = 0;
};

}  // namespace gfs
