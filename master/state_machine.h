// The master's deterministic state machine: how each LogEntry changes the namespace
// (DESIGN.md, "Master as a state machine"), and the path lookups it shares with
// read-only queries.
//
// Apply validates an entry against the state it sees through the MetaTxn and either
// writes its whole effect or returns an error having written nothing the caller keeps.
// Same state + same entry = same result, on the leader today and on followers later.
#pragma once

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

// The client-visible attributes of an inode.
proto::FileInfo ToFileInfo(const proto::InodeRecord& inode);

}  // namespace gfs::master
