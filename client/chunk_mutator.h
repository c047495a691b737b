// One mutation of one chunk, carried through to success or to its deadline: get the
// write lease from the master (cached), push the data along the replicas' chain, ask the
// primary to apply it (DESIGN.md, "Processes and the path of a byte").
//
// On FAILED_PRECONDITION from a chunkserver (not the primary, lease expired, stale
// version) the lease is re-asked at once; on any other chunkserver error the failure is
// reported to the master (ReportWriteFailure, naming the replica that could not be
// reached when known), and the whole mutation is retried with backoff and a fresh data
// id. UNAVAILABLE from GetWriteLease (no lease can be granted yet) is retried too.
//
// Thread-safe: any number of threads may run mutations at once.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "client/chunkserver_pool.h"
#include "client/master_channel.h"
#include "client/write_lease_cache.h"
#include "gfs/client.h"
#include "gfs/status.h"

namespace gfs::client {

class ChunkMutator {
 public:
  // `lease_master` answers GetWriteLease and ReportWriteFailure; its retry budget should
  // be short, since this class retries within ClientOptions::data_timeout.
  ChunkMutator(std::shared_ptr<MasterChannel> lease_master,
               std::shared_ptr<ChunkServerPool> chunkservers, const ClientOptions& options);

  // Writes `data` at `file_offset` of file `path` (whose chunks are `chunk_size` bytes);
  // with `flush`, makes the chunk durable on every replica before returning (`data` may
  // be empty for a flush-only mutation of the chunk holding `file_offset`). Returns OK
  // once every replica applied it. Gives up after ClientOptions::data_timeout, or at the
  // next retry once `*cancelled` (if given) is true, with "write PATH at offset N: <last
  // error>" ("sync PATH chunk I: ..." for a flush); errors of the master other than
  // UNAVAILABLE and DEADLINE_EXCEEDED (NotFound, ...) are returned at once.
  // REQUIRES: the bytes lie within one chunk.
  // `inode_id` names the file for the master (whatever its path is now); `path` is for
  // messages.
  Status Mutate(const std::string& path, uint64_t inode_id, uint64_t chunk_size,
                uint64_t file_offset, std::string_view data, bool flush,
                const std::atomic<bool>* cancelled);

  // What one record append to one chunk did.
  struct AppendOutcome {
    // The record did not fit; the chunk was padded. Append to the next chunk.
    bool chunk_full = false;
    // Where it landed in the chunk, identically on every replica (when !chunk_full).
    uint64_t offset = 0;
  };
  // Appends `record` to chunk `index` of `path` at an offset the primary chooses, with
  // the same retries and deadline as Mutate ("append PATH chunk I: <last error>").
  // A retried append may leave a copy or padding behind: at-least-once.
  Result<AppendOutcome> Append(const std::string& path, uint64_t inode_id, uint64_t index,
                               std::string_view record);

 private:
  // One try against a lease; on failure sets `*failed` to the replicas known to be
  // unreachable.
  using AttemptFn =
      std::function<Status(const WriteLease& lease, std::chrono::steady_clock::time_point deadline,
                           std::vector<std::string>* failed)>;
  // Runs `attempt` against the lease of chunk `index` of `path` until it succeeds, an
  // error that retrying cannot fix comes back, or data_timeout passes.
  Status RetryWithLease(const std::string& what, const std::string& path, uint64_t inode_id,
                        uint64_t index, const AttemptFn& attempt,
                        const std::atomic<bool>* cancelled);

  // The lease for chunk `index` of file `inode_id`, from the cache or the master.
  Result<WriteLease> GetLease(const std::string& path, uint64_t inode_id, uint64_t index);

  // One attempt: push then write, or the write alone when it carries small data inline.
  // On failure sets `*failed` to the replicas known to be unreachable.
  Status Attempt(const WriteLease& lease, uint64_t offset_in_chunk, std::string_view data,
                 bool flush, std::chrono::steady_clock::time_point deadline,
                 std::vector<std::string>* failed);

  // True if a mutation of `bytes` carries them inline instead of pushing them.
  bool SendsInline(size_t bytes) const;

  // Streams `data` to lease.replicas[0], which forwards it down the chain.
  Status Push(const WriteLease& lease, uint64_t data_id, std::string_view data,
              std::chrono::steady_clock::time_point deadline, std::vector<std::string>* failed);

  // Adds to `failed` the replicas that a failed call to the primary points at.
  static void NoteFailedReplicas(const WriteLease& lease, const Status& s,
                                 std::vector<std::string>* failed);

  // Tells the master that the mutation through `lease` failed; errors are only logged.
  void ReportFailure(const WriteLease& lease, const std::vector<std::string>& failed);

  const std::shared_ptr<MasterChannel> lease_master_;
  const std::shared_ptr<ChunkServerPool> chunkservers_;
  const ClientOptions options_;
  WriteLeaseCache leases_;
};

}  // namespace gfs::client
