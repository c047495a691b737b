// The calls the master makes on chunkservers. An interface, so that unit tests of the
// ChunkManager can stand in for chunkservers.
//
// Implementations are thread-safe. Every call has a deadline.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gfs/status.h"

namespace gfs::master {

class ChunkServerClient {
 public:
  virtual ~ChunkServerClient() = default;

  // Moves the replica on `address` from `expected` to `new_version`, durably. With
  // `create_incarnation` non-zero (a new chunk's secondary that may never have received
  // its first mutation) a server without the replica creates it, empty, at
  // `new_version`, if it is still that incarnation (UpdateChunkVersionRequest).
  virtual Status UpdateChunkVersion(const std::string& address, uint64_t handle, uint64_t expected,
                                    uint64_t new_version, uint64_t create_incarnation) = 0;
  // Makes `address` the primary of `handle` at `version` for `lease_ms`; `chunk_size`
  // is the file's, to which record appends pad. With `create` (a chunk just allocated)
  // `address` first creates its empty replica at `version`, and the secondaries create
  // theirs with the first mutation under the lease.
  virtual Status GrantLease(const std::string& address, uint64_t handle, uint64_t version,
                            uint64_t lease_ms, uint64_t chunk_size,
                            const std::vector<std::string>& secondaries, bool create) = 0;
  // Takes the lease of `handle` back from `address`.
  virtual Status RevokeLease(const std::string& address, uint64_t handle) = 0;
  // Copies replica `src` (at `version`) to a new chunk `dst` on `address`, locally.
  virtual Status CloneChunk(const std::string& address, uint64_t src, uint64_t dst,
                            uint64_t version) = 0;
  // Has `address` fetch replica `handle` at `version` from `source` (re-replication).
  virtual Status CopyChunkFrom(const std::string& address, uint64_t handle, uint64_t version,
                               const std::string& source) = 0;
};

// The real one, over gRPC; `timeout` is each call's deadline.
std::unique_ptr<ChunkServerClient> NewGrpcChunkServerClient(std::chrono::milliseconds timeout);

}  // namespace gfs::master
