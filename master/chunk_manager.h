// Chunks as the master manages them: allocation of new chunks, where replicas live,
// versions and leases.
//
// Persistent facts (which chunks a file has, each chunk's version) live in the op log's
// state and change only through log entries (AddChunk, SetChunkVersion). Soft facts
// (which chunkserver holds which version, who holds a lease until when) live here,
// rebuilt from chunk reports after a restart (DESIGN.md, "Master").
//
// Leases: granting one on a chunk without a live lease first moves every live
// up-to-date replica to version + 1, logs the new version, then makes one of them
// primary. A replica that missed the bump is stale and never handed out again. No new
// lease is granted while an old one may still be alive, nor, on a chunk that existed
// before the master started, within one lease period of the start. The master counts a lease from
// when the primary confirmed it, so it never believes a lease over while the primary still uses it.
//
// Thread-safe. Calls to chunkservers are made without holding the lock. Lock order:
// mu_, then the registry's.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/mutex.h"
#include "common/worker_pool.h"
#include "gfs/status.h"
#include "master/chunkserver_client.h"
#include "master/chunkserver_registry.h"
#include "master/op_log.h"
#include "protos/master.pb.h"
#include "protos/oplog.pb.h"

namespace gfs::master {

struct ChunkManagerOptions {
  uint64_t lease_ms = 60000;
  // How long a caller waits for another thread's grant on the same chunk.
  int64_t grant_wait_ms = 30000;
  // Each server is asked for a full chunk report this often, to find garbage.
  int64_t full_report_interval_ms = 300000;
  // Replicas a server is told to delete per heartbeat at most (bounds GC's rate).
  size_t max_deletes_per_heartbeat = 100;
};

class ChunkManager {
 public:
  // Every pointer must outlive the manager. The lease-free period after start begins now.
  ChunkManager(ChunkManagerOptions options, OpLog* log, ChunkServerRegistry* registry,
               ChunkServerClient* chunkservers, Clock* clock);

  // Fills `resp` with the file's info and its chunks in [first_index, first_index+count)
  // (count 0: all) with their live up-to-date replicas. NotFound / FailedPrecondition
  // (a directory) as for Stat.
  Status GetChunkLocations(const std::string& path, uint64_t first_index, uint64_t count,
                           proto::GetChunkLocationsResponse* resp) EXCLUDES(mu_);

  // The chunk at `index` of file `path`, allocated if missing, with a primary holding a
  // lease. Unavailable when no lease can be granted yet or no chunkserver is live
  // (retry later). With `inode_id` set, the file is that inode wherever it is now (an
  // open writer's file); NotFound once deleted.
  Status GetWriteLease(const std::string& path, uint64_t index, proto::GetWriteLeaseResponse* resp,
                       uint64_t inode_id = 0) EXCLUDES(mu_);

  // A client's write through (handle, version) failed: take the lease back so the next
  // GetWriteLease moves the chunk to a new version on the replicas that answer.
  void ReportWriteFailure(uint64_t handle, uint64_t version,
                          const std::vector<std::string>& failed_replicas) EXCLUDES(mu_);

  // Applies the chunk parts of a heartbeat from a live server: reports, removals,
  // corrupt replicas, and lease extensions (added to `resp`). Reported replicas of
  // chunks no file references (orphans) and stale replicas are garbage: `resp` tells
  // the server to delete them, a bounded number per heartbeat.
  void ProcessHeartbeat(const proto::HeartbeatRequest& req, proto::HeartbeatResponse* resp)
      EXCLUDES(mu_);

  // Before a snapshot: takes back the leases of `handles` and refuses new ones until
  // Unfreeze, so that no write lands in a chunk while it becomes shared. Unavailable
  // (nothing stays frozen) if a lease could not be taken back and may still be in force.
  Status FreezeForSnapshot(const std::vector<uint64_t>& handles) EXCLUDES(mu_);
  void Unfreeze(const std::vector<uint64_t>& handles) EXCLUDES(mu_);

  // Re-replication: copies up to `max_copies` chunks that have fewer live up-to-date
  // replicas than their file asks for (fewest first) from a live replica to another
  // server. Chunks with a lease in force are left for later; a chunk being copied gets
  // no lease. Returns how many copies were made.
  size_t ReplicateOnce(size_t max_copies) EXCLUDES(mu_);

  // How many replicas the master knows on each server.
  std::map<std::string, uint64_t> ReplicaCounts() EXCLUDES(mu_);

  // Counts for monitoring, cheap to take (no metadata read).
  struct Stats {
    // Chunks the master has seen a replica of since it started, and those replicas.
    uint64_t chunks_with_replicas = 0;
    uint64_t replicas = 0;
    // Leases granted and still in force.
    uint64_t leases = 0;
    // As of the last ReplicateOnce scan (0 before it), among chunks the master has seen
    // replicas of and that have no lease in force: chunks of a file with fewer live
    // up-to-date replicas than it asks for, and chunks with none at all.
    uint64_t under_replicated = 0;
    uint64_t without_live_replica = 0;
  };
  Stats stats() EXCLUDES(mu_);

  // Forgets the replicas of a server declared dead.
  void ServerDead(const std::string& address) EXCLUDES(mu_);

 private:
  struct Lease {
    std::string primary;
    uint64_t version = 0;
    // Monotonic time until which the primary may still act on the lease.
    int64_t until_us = 0;
    // Taken back (or asked back): no longer handed to clients, but it stays in force
    // until until_us unless the primary confirmed the revocation.
    bool revoked = false;
  };
  struct ChunkState {
    // Replica address -> the version it reported.
    std::map<std::string, uint64_t> replicas;
    // Replica address -> when this master recorded the replica itself (it created,
    // copied or moved it to a new version there). A report the server built before
    // that may arrive up to kReportRaceUs later and must not undo it.
    std::map<std::string, int64_t> recorded_us;
    std::optional<Lease> lease;
    bool granting = false;  // a thread is granting a lease; others wait
    // Servers whose replica failed a checksum: never counted as replicas again.
    std::set<std::string> corrupt;
    // Servers copying the chunk for re-replication right now (their replica is partial).
    std::set<std::string> copying_to;
    // Secondaries of a chunk this master allocated that have not reported it yet, with
    // their incarnation then: they create it with its first mutation, which may never
    // have reached them (a push that failed first). A version change creates it there
    // instead, if the server has not restarted since. Not counted as replicas when
    // deciding what to copy.
    std::map<std::string, uint64_t> awaiting_creation;
  };

  // How old a heartbeat report can be when the master processes it: the server's
  // heartbeat deadline (3 intervals, at least 2 s) with room to spare.
  static constexpr int64_t kReportRaceUs = 10'000'000;

  // Notes that `address` holds the chunk of `state` at `version`, as this master just
  // made it.
  void RecordReplica(ChunkState* state, const std::string& address, uint64_t version) REQUIRES(mu_);
  // Whether this master recorded `address`'s replica within kReportRaceUs.
  bool RecentlyRecorded(const ChunkState& state, const std::string& address) REQUIRES(mu_);

  // Each chunkserver's incarnation, from its last heartbeat (HeartbeatRequest).
  std::map<std::string, uint64_t> incarnations_ GUARDED_BY(mu_);

  // Calls to chunkservers in flight at once; more wait for a thread.
  static constexpr int kMaxConcurrentCalls = 32;

  // Handles are reserved in the log this many at a time.
  static constexpr uint64_t kHandleBlock = 1024;

  // Primaries a new chunk's first lease is offered to, one after another, before the
  // allocation fails (each refusing server is left out of the next placement).
  static constexpr int kAllocationAttempts = 3;

  // A new handle, durably reserved (never handed out again, even by a restarted master)
  // and counted as being allocated (so never taken for an orphan) for the reservation's
  // lifetime. Check status() before using handle().
  class HandleReservation {
   public:
    explicit HandleReservation(ChunkManager* manager);
    ~HandleReservation();
    HandleReservation(const HandleReservation&) = delete;
    HandleReservation& operator=(const HandleReservation&) = delete;
    const Status& status() const { return status_; }
    uint64_t handle() const { return handle_; }

   private:
    ChunkManager* const manager_;
    Status status_;
    uint64_t handle_ = 0;
  };

  // Places chunk `index` of `file` on new servers, grants its first lease (the primary
  // creates the chunk as it takes it; the secondaries with the first mutation), logs it
  // and fills `resp`. AlreadyExists if another writer allocated it first.
  Status AllocateChunk(const proto::InodeRecord& file, uint64_t index,
                       proto::GetWriteLeaseResponse* resp) EXCLUDES(mu_);
  // Replaces the shared chunk `chunk` of `file` by a private copy, cloned locally on
  // each up-to-date replica, and logs it. AlreadyExists if another writer did first.
  // Sets `*fresh` when every replica asked made its copy (none can have been left
  // behind).
  Result<proto::ChunkRecord> CopyOnWrite(const proto::InodeRecord& file,
                                         const proto::ChunkRecord& chunk, bool* fresh)
      EXCLUDES(mu_);
  // Returns (granting if needed) a lease on `chunk` of a file with `chunk_size` and
  // fills `resp`. `fresh`: the chunk was just created on every replica it has and never
  // leased, so a grant needs no version bump.
  Status LeaseFor(const proto::ChunkRecord& chunk, uint64_t chunk_size,
                  proto::GetWriteLeaseResponse* resp, bool fresh = false) EXCLUDES(mu_);
  // Records `holders` as replicas of the new chunk `handle` at `version` (and `lease`,
  // when one was granted already), then logs `entry` (its AddChunk or CopyOnWrite);
  // forgets them if that fails.
  Status LogNewChunk(const proto::LogEntry& entry, uint64_t handle,
                     const std::vector<std::string>& holders, uint64_t version,
                     std::optional<Lease> lease = std::nullopt) EXCLUDES(mu_);
  // Moves `targets` from `*version` to a new version and logs it; sets `*version` to it
  // and returns the replicas that took it. Bumps again while a replica that did not
  // answer may have taken it anyway. Unavailable if none took it.
  Result<std::vector<std::string>> BumpVersion(uint64_t handle, uint64_t* version,
                                               std::vector<std::string> targets) EXCLUDES(mu_);
  // Live replicas of `state` at `version`. REQUIRES: mu_ held.
  std::vector<std::string> UpToDateReplicas(const ChunkState& state, uint64_t version)
      REQUIRES(mu_);
  int64_t LeaseUntil(int64_t confirmed_us) const;

  const ChunkManagerOptions options_;
  OpLog* const log_;
  ChunkServerRegistry* const registry_;
  ChunkServerClient* const chunkservers_;
  Clock* const clock_;
  // Chunks that existed before this master started may have a primary of the previous
  // incarnation holding a lease: no lease on them before leases_allowed_from_us_.
  const int64_t leases_allowed_from_us_;
  uint64_t first_handle_of_this_run_ GUARDED_BY(mu_);

  Mutex mu_;
  CondVar grant_done_;
  std::unordered_map<uint64_t, ChunkState> chunks_ GUARDED_BY(mu_);
  // Chunks being created whose AddChunk is not logged yet: not orphans.
  std::set<uint64_t> allocating_ GUARDED_BY(mu_);
  // Chunks a snapshot is making shared: no lease on them meanwhile (count of snapshots).
  std::map<uint64_t, int> frozen_ GUARDED_BY(mu_);
  // When each server last sent a full report (monotonic).
  std::map<std::string, int64_t> last_full_report_us_ GUARDED_BY(mu_);
  uint64_t next_handle_ GUARDED_BY(mu_);
  // Handles below this are reserved in the log for this incarnation to hand out.
  uint64_t reserved_until_ GUARDED_BY(mu_);
  // What the last ReplicateOnce scan found (see Stats).
  uint64_t last_under_replicated_ GUARDED_BY(mu_) = 0;
  uint64_t last_without_live_replica_ GUARDED_BY(mu_) = 0;

  // Runs the calls to chunkservers that go out at once (creations, version changes),
  // on threads kept between calls. Last: joined first, while the rest is alive.
  WorkerPool calls_{kMaxConcurrentCalls};
};

}  // namespace gfs::master
