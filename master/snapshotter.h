// Copy-on-write snapshots of a file or directory tree (GFS paper, section 3.4): take
// back the leases of every chunk in the tree, log the snapshot (new inodes sharing the
// chunks, whose reference counts go up), then let leases be granted again. The first
// write to a shared chunk afterwards makes the writer's file its own copy, cloned
// locally on each replica (ChunkManager::CopyOnWrite).
//
// The log entry names the chunks that were frozen; if a writer added one to the tree
// meanwhile, the entry is refused and the snapshot starts over, so no chunk with a live
// lease ever becomes shared.
//
// Thread-safe.
#pragma once

#include <string>

#include "gfs/status.h"
#include "master/chunk_manager.h"
#include "master/namespace.h"

namespace gfs::master {

class Snapshotter {
 public:
  // Every pointer must outlive the snapshotter.
  Snapshotter(Namespace* ns, ChunkManager* chunks, OpLog* log)
      : ns_(ns), chunks_(chunks), log_(log) {}

  // Snapshots `src` as `dst`. NotFound if `src` is missing; AlreadyExists if `dst`
  // exists; InvalidArgument if `dst` is inside `src`; Unavailable if a chunk's lease
  // could not be taken back yet (retry).
  Status Snapshot(const std::string& src, const std::string& dst);

 private:
  Namespace* const ns_;
  ChunkManager* const chunks_;
  OpLog* const log_;
};

}  // namespace gfs::master
