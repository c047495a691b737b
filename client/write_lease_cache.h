// What the client remembers of the write leases the master handed out: per (path, chunk
// index) the chunk, its version, primary and push order. An entry is dropped as soon as
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

  // The cached lease of chunk `index` of `path`, if any.
  std::optional<WriteLease> Get(const std::string& path, uint64_t index);

  void Put(const std::string& path, uint64_t index, WriteLease lease);

  // Forgets chunk `index` of `path`; no-op if it is not cached.
  void Drop(const std::string& path, uint64_t index);

 private:
  using Key = std::pair<std::string, uint64_t>;

  Mutex mu_;
  std::map<Key, WriteLease> leases_ GUARDED_BY(mu_);
};

}  // namespace gfs::client
