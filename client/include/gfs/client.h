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
// Thread-safe: one Client may be shared by any number of threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
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

  // Deletes a file or directory. A non-empty directory needs `recursive`, else
  // FailedPrecondition. Deleting "/" is InvalidArgument.
  virtual Status Delete(const std::string& path, bool recursive = false) = 0;

  // Renames a file or directory. Returns AlreadyExists if `dst` exists, NotFound if
  // `src` or `dst`'s parent is missing, InvalidArgument when moving a directory into
  // its own subtree.
  virtual Status Rename(const std::string& src, const std::string& dst) = 0;
};

}  // namespace gfs
