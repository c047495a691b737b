// The namespace as the master's RPC handlers see it: validates requests, turns
// mutations into log entries (stamped with the master's clock) proposed to the OpLog,
// and answers queries from a consistent snapshot of the state.
//
// Error messages name the offending path; codes follow DESIGN.md, "Errors".
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/clock.h"
#include "gfs/status.h"
#include "master/op_log.h"
#include "protos/master.pb.h"
#include "protos/oplog.pb.h"

namespace gfs::master {

struct NamespaceOptions {
  // Chunk size stamped on new files.
  uint64_t chunk_size_bytes = 64 << 20;
  // Replication of new files that ask for 0.
  uint32_t default_replication = 3;
  // The largest replication a file may ask for.
  uint32_t max_replication = 16;
  // List page size when the client asks for 0, and the cap on what it may ask for.
  uint32_t default_list_limit = 1000;
  uint32_t max_list_limit = 10000;
};

class Namespace {
 public:
  // `log` and `clock` must outlive the namespace.
  Namespace(NamespaceOptions options, OpLog* log, Clock* clock);

  // See gfs::Client in <gfs/client.h> for each operation's contract.
  Result<proto::FileInfo> Mkdir(const std::string& path, bool parents);
  // The same operations as log entries, for callers that propose without waiting
  // (ProposeAsync): the path is validated here, everything else when applied.
  Result<proto::LogEntry> MkdirEntry(const std::string& path, bool parents) const;
  Result<proto::LogEntry> CreateFileEntry(const std::string& path, uint32_t replication,
                                          bool ok_if_exists) const;
  Result<proto::LogEntry> DeleteEntry(const std::string& path, bool recursive) const;
  Result<proto::LogEntry> RenameEntry(const std::string& src, const std::string& dst) const;
  // Proposes `entry`, stamped with the time now; `done` as for OpLog::ProposeAsync.
  void ProposeAsync(proto::LogEntry entry, OpLog::Callback done);

  Result<proto::FileInfo> CreateFile(const std::string& path, uint32_t replication,
                                     bool ok_if_exists);
  Status Delete(const std::string& path, bool recursive);
  Status Rename(const std::string& src, const std::string& dst);
  // Brings back the most recently deleted entry that was at `path`. NotFound if the
  // trash holds none; AlreadyExists if `path` exists again; NotFound/FailedPrecondition
  // if its parent is missing or not a directory.
  Result<proto::FileInfo> Undelete(const std::string& path);
  // Trash entries deleted more than `retention_us` ago, oldest first, at most `max`.
  Result<std::vector<proto::TrashRecord>> ExpiredTrash(int64_t retention_us, size_t max);
  // Drops a trash entry for good. NotFound if it was undeleted or purged meanwhile.
  Status Purge(const proto::TrashRecord& trash);

  // Logs a snapshot of the tree at `src` as `dst` (see SnapshotOp). The caller took the
  // chunks' leases back first (Snapshotter).
  // `frozen_handles`: the tree's chunks (sorted, unique) whose leases were taken back;
  // Aborted if the tree has others now.
  Status Snapshot(const std::string& src, const std::string& dst,
                  const std::vector<uint64_t>& frozen_handles);

  // The entry that raises the length of file `path` to `length` if shorter; applied, it
  // returns the file's attributes. With `inode_id` set, the file is that inode wherever
  // it is now.
  Result<proto::LogEntry> ExtendFileEntry(const std::string& path, uint64_t length,
                                          uint64_t inode_id) const;

  Result<proto::FileInfo> Stat(const std::string& path);
  // Fills `response` with one page of `path`'s entries after `start_after`.
  Status List(const std::string& path, const std::string& start_after, uint32_t limit,
              proto::ListResponse* response);

 private:
  // Stamps `entry` with the clock and proposes it.
  ApplyResult Propose(proto::LogEntry entry);

  const NamespaceOptions options_;
  OpLog* const log_;
  Clock* const clock_;
};

}  // namespace gfs::master
