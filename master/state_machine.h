// The master's deterministic state machine: how each LogEntry changes the namespace
// (DESIGN.md, "Master as a state machine"), and the path lookups it shares with
// read-only queries.
//
// Apply validates an entry against the state it sees through the MetaTxn and either
// writes its whole effect or returns an error having written nothing the caller keeps.
// Same state + same entry = same result, on the leader today and on followers later.
#pragma once

#include <optional>
#include <vector>

#include "gfs/status.h"
#include "master/op_log.h"
#include "protos/oplog.pb.h"

namespace gfs::master {

class MetaTxn;

class MasterStateMachine : public StateMachine {
 public:
  ApplyResult Apply(const proto::LogEntry& entry, MetaTxn* txn) override;
  // Creates the root directory (inode 1, mtime 0) and the inode id counter.
  void Bootstrap(MetaTxn* txn) override;
};

// Looks up the inode at `path` (a valid path). Returns NotFound naming the first missing
// component's path, FailedPrecondition if a component before the last is a file.
Result<proto::InodeRecord> ResolvePath(MetaTxn* txn, const std::string& path);

// The chunk records of file `inode_id` with index in [first_index, first_index + count)
// (count 0: to the end), in index order.
Result<std::vector<proto::ChunkRecord>> ListFileChunks(MetaTxn* txn, uint64_t inode_id,
                                                       uint64_t first_index, uint64_t count);
// The chunk at `index` of a file, or nothing if that index has no chunk.
Result<std::optional<proto::ChunkRecord>> GetFileChunk(MetaTxn* txn, uint64_t inode_id,
                                                       uint64_t index);
// Every chunk handle of the files in the tree at `root` (with repeats if shared).
Result<std::vector<uint64_t>> CollectChunkHandles(MetaTxn* txn, const proto::InodeRecord& root);
// The record of chunk `handle`; NotFound if no file references it.
Result<proto::ChunkRecord> GetChunk(MetaTxn* txn, uint64_t handle);
// Trash entries deleted before `deleted_before_us`, oldest first, at most `max_entries`.
Result<std::vector<proto::TrashRecord>> ListTrash(MetaTxn* txn, int64_t deleted_before_us,
                                                  size_t max_entries);
// The smallest handle never used.
uint64_t NextChunkHandle(MetaTxn* txn);

// The inode `inode_id` if it is still in the namespace (wherever it was moved); NotFound
// naming `path` if it was deleted.
Result<proto::InodeRecord> ResolveLiveInode(MetaTxn* txn, uint64_t inode_id,
                                            const std::string& path);

// The client-visible attributes of an inode.
proto::FileInfo ToFileInfo(const proto::InodeRecord& inode);

}  // namespace gfs::master
