// What the client remembers of the write leases the master handed out: per (file inode,
// chunk index) the chunk, its version, primary and push order. Keyed by inode, not path:
// a file renamed, or deleted and created again, is another key. An entry is dropped as soon as
// a chunkserver refuses or fails a mutation through it, so that the next mutation asks
// the master again.
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/mutex.h"

namespace gfs::client {

// The master's answer to GetWriteLease.
struct WriteLease {
  uint64_t handle = 0;
  uint64_t version = 0;
  std::string primary;
  std::vector<std::string> replicas;  // push order, the primary included
  uint64_t chunk_size = 0;
};

class WriteLeaseCache {
 public:
  // Entries kept at most; past it the cache starts over (leases are cheap to re-ask).
  static constexpr size_t kMaxEntries = 4096;

  // The cached lease of chunk `index` of file `inode_id`, if any.
  std::optional<WriteLease> Get(uint64_t inode_id, uint64_t index);

  void Put(uint64_t inode_id, uint64_t index, WriteLease lease);

  // Forgets chunk `index` of file `inode_id`; no-op if it is not cached.
  void Drop(uint64_t inode_id, uint64_t index);

 private:
  using Key = std::pair<uint64_t, uint64_t>;

  Mutex mu_;
  std::map<Key, WriteLease> leases_ GUARDED_BY(mu_);
};

}  // namespace gfs::client
