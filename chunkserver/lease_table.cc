#include "chunkserver/lease_table.h"

#include <algorithm>

namespace gfs::chunkserver {

void LeaseTable::Grant(uint64_t handle, uint64_t version, uint64_t lease_ms, uint64_t chunk_size,
                       std::vector<std::string> secondaries, bool new_chunk) {
  MutexLock lock(&mu_);
  Entry& entry = leases_[handle];
  entry.version = version;
  entry.expiry_us = clock_->MonotonicMicros() + static_cast<int64_t>(lease_ms) * 1000;
  entry.secondaries = std::move(secondaries);
  entry.next_serial = 1;
  entry.written_since_extension = false;
  entry.chunk_size = chunk_size;
  entry.append_end = 0;
  entry.new_chunk = new_chunk;
}

Status LeaseTable::Revoke(uint64_t handle, std::chrono::milliseconds drain) {
  MutexLock lock(&mu_);
  leases_.erase(handle);
  const auto deadline = std::chrono::steady_clock::now() + drain;
  while (in_flight_.count(handle) != 0) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      return Status::DeadlineExceeded(std::to_string(in_flight_[handle]) +
                                      " mutations under the revoked lease are still running");
    }
    drained_.WaitFor(deadline - now);
  }
  return Status::OK();
}

void LeaseTable::FinishMutation(uint64_t handle) {
  MutexLock lock(&mu_);
  auto it = in_flight_.find(handle);
  if (it == in_flight_.end()) return;
  if (--it->second <= 0) {
    in_flight_.erase(it);
    drained_.SignalAll();
  }
}

Result<LeaseTable::Entry*> LeaseTable::ValidLease(uint64_t handle, uint64_t version) {
  auto it = leases_.find(handle);
  if (it == leases_.end()) {
    return Status::FailedPrecondition("not the primary of this chunk (no lease held)");
  }
  Entry& entry = it->second;
  if (entry.expiry_us <= clock_->MonotonicMicros()) {
    leases_.erase(it);
    return Status::FailedPrecondition("the lease on this chunk expired");
  }
  if (entry.version != version) {
    return Status::FailedPrecondition("lease is for version " + std::to_string(entry.version) +
                                      ", the mutation names version " + std::to_string(version));
  }
  return &entry;
}

Result<LeaseTable::Lease> LeaseTable::StartMutation(uint64_t handle, uint64_t version) {
  MutexLock lock(&mu_);
  GFS_ASSIGN_OR_RETURN(Entry * entry, ValidLease(handle, version));
  entry->written_since_extension = true;
  ++in_flight_[handle];
  return NextMutation(entry);
}

LeaseTable::Lease LeaseTable::NextMutation(Entry* entry) {
  Lease lease;
  lease.version = entry->version;
  lease.secondaries = entry->secondaries;
  lease.serial = entry->next_serial++;
  lease.creates_secondaries = entry->new_chunk && lease.serial == 1;
  return lease;
}

Result<LeaseTable::Lease> LeaseTable::StartAppend(uint64_t handle, uint64_t version,
                                                  uint64_t length, uint64_t chunk_length) {
  MutexLock lock(&mu_);
  GFS_ASSIGN_OR_RETURN(Entry * entry, ValidLease(handle, version));
  if (entry->chunk_size == 0) {
    return Status::FailedPrecondition("the lease does not name the chunk size");
  }
  if (length == 0 || length > entry->chunk_size / 4) {
    return Status::InvalidArgument("a record of " + std::to_string(length) +
                                   " bytes; records are 1 byte to a quarter of the chunk size (" +
                                   std::to_string(entry->chunk_size / 4) + " bytes)");
  }
  entry->written_since_extension = true;
  ++in_flight_[handle];
  Lease lease = NextMutation(entry);
  const uint64_t start = std::max(entry->append_end, chunk_length);
  if (start + length > entry->chunk_size) {
    lease.pad_to = entry->chunk_size;
    entry->append_end = entry->chunk_size;
  } else {
    lease.offset = start;
    entry->append_end = start + length;
  }
  return lease;
}

std::vector<std::pair<uint64_t, uint64_t>> LeaseTable::ExtensionCandidates(int64_t within_ms) {
  MutexLock lock(&mu_);
  const int64_t now = clock_->MonotonicMicros();
  std::vector<std::pair<uint64_t, uint64_t>> out;
  for (auto it = leases_.begin(); it != leases_.end();) {
    if (it->second.expiry_us <= now) {
      it = leases_.erase(it);
      continue;
    }
    if (it->second.written_since_extension && it->second.expiry_us - now <= within_ms * 1000) {
      out.emplace_back(it->first, it->second.version);
    }
    ++it;
  }
  return out;
}

void LeaseTable::Extend(const std::vector<uint64_t>& handles, int64_t sent_us, uint64_t lease_ms) {
  MutexLock lock(&mu_);
  for (uint64_t handle : handles) {
    auto it = leases_.find(handle);
    if (it == leases_.end()) continue;  // revoked or expired meanwhile: stays gone
    const int64_t expiry = sent_us + static_cast<int64_t>(lease_ms) * 1000;
    if (expiry > it->second.expiry_us) it->second.expiry_us = expiry;
    it->second.written_since_extension = false;
  }
}

bool LeaseTable::Holds(uint64_t handle) {
  MutexLock lock(&mu_);
  auto it = leases_.find(handle);
  return it != leases_.end() && it->second.expiry_us > clock_->MonotonicMicros();
}

}  // namespace gfs::chunkserver
