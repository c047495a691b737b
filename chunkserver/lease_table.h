// The leases this chunkserver holds as primary, as the master granted them.
//
// A lease is valid until its expiry on this server's monotonic clock. The expiry is
// counted from when the grant arrived (or, for extensions, from when the heartbeat that
// asked for it was sent), which is never later than the master's own count: the master
// therefore never believes a lease is over while this server still uses it.
//
// Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/mutex.h"
#include "gfs/status.h"

namespace gfs::chunkserver {

class LeaseTable {
 public:
  // What a mutation needs from a valid lease.
  struct Lease {
    uint64_t version = 0;
    std::vector<std::string> secondaries;
    uint64_t serial = 0;  // the serial number assigned to this mutation
    // Record appends only: where the record goes, or pad_to > 0 when it does not fit
    // and the chunk is padded to pad_to (its chunk size) instead.
    uint64_t offset = 0;
    uint64_t pad_to = 0;
    // Serial 1 of a lease granted on a new chunk: the secondaries create their replicas
    // with this mutation (ApplyMutationRequest.create).
    bool creates_secondaries = false;
  };

  // `clock` must outlive the table.
  explicit LeaseTable(Clock* clock) : clock_(clock), drained_(&mu_) {}

  // Records a lease on `handle` at `version` until now + lease_ms; replaces any older
  // lease of the handle and restarts serial numbers at 1. `new_chunk`: the master has
  // just allocated the chunk, and its secondaries do not hold it yet.
  void Grant(uint64_t handle, uint64_t version, uint64_t lease_ms, uint64_t chunk_size,
             std::vector<std::string> secondaries, bool new_chunk = false) EXCLUDES(mu_);

  // Drops the lease of `handle`, if any: mutations not yet assigned a serial are
  // refused. Then waits up to `drain` for the mutations already started under it to
  // finish; DeadlineExceeded if they did not (the master must then let the lease run
  // out instead).
  Status Revoke(uint64_t handle, std::chrono::milliseconds drain = std::chrono::seconds(5))
      EXCLUDES(mu_);

  // Every StartMutation/StartAppend that succeeded is matched by one FinishMutation once
  // the mutation is applied everywhere (or failed).
  void FinishMutation(uint64_t handle) EXCLUDES(mu_);

  // For a mutation of `handle` at `version`: returns the lease with the next serial
  // number assigned. FailedPrecondition when this server holds no valid lease at that
  // version (not primary, expired, revoked, or another version).
  Result<Lease> StartMutation(uint64_t handle, uint64_t version) EXCLUDES(mu_);

  // For a record append of `length` bytes to `handle` at `version`, whose data on this
  // server currently ends at `chunk_length`: assigns the serial number and the offset,
  // the end of all appends already ordered (so concurrent appends never overlap). A
  // record past the chunk size turns into padding to the chunk size. Errors as for
  // StartMutation, and InvalidArgument for an empty record or one larger than a quarter
  // of the chunk size.
  Result<Lease> StartAppend(uint64_t handle, uint64_t version, uint64_t length,
                            uint64_t chunk_length) EXCLUDES(mu_);

  // Leases that saw a mutation since they were granted or last extended and expire
  // within `within_ms`: the heartbeat asks the master to extend them. Each entry is
  // (handle, version).
  std::vector<std::pair<uint64_t, uint64_t>> ExtensionCandidates(int64_t within_ms) EXCLUDES(mu_);

  // Extends the leases of `handles` to sent_us + lease_ms, where `sent_us` is the
  // monotonic time at which the heartbeat asking for it was sent.
  void Extend(const std::vector<uint64_t>& handles, int64_t sent_us, uint64_t lease_ms)
      EXCLUDES(mu_);

  // True when a valid lease on `handle` is held (for tests and status).
  bool Holds(uint64_t handle) EXCLUDES(mu_);

 private:
  struct Entry {
    uint64_t version = 0;
    int64_t expiry_us = 0;
    std::vector<std::string> secondaries;
    uint64_t next_serial = 1;
    bool written_since_extension = false;
    uint64_t chunk_size = 0;
    uint64_t append_end = 0;  // end of the appends ordered so far under this lease
    bool new_chunk = false;
  };

  // The lease handed to a mutation, with the next serial number assigned.
  static Lease NextMutation(Entry* entry);

  // The valid lease of `handle` at `version`, or the error StartMutation returns.
  Result<Entry*> ValidLease(uint64_t handle, uint64_t version) REQUIRES(mu_);

  Clock* const clock_;
  Mutex mu_;
  CondVar drained_;
  std::map<uint64_t, Entry> leases_ GUARDED_BY(mu_);
  // Mutations started and not finished, per chunk (outlives a revoked lease).
  std::map<uint64_t, int> in_flight_ GUARDED_BY(mu_);
};

}  // namespace gfs::chunkserver
