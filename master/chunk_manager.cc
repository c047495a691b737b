#include "master/chunk_manager.h"

#include <glog/logging.h>

#include <algorithm>

#include "common/latch.h"
#include "master/meta_keys.h"
#include "master/meta_txn.h"
#include "master/state_machine.h"

namespace gfs::master {
namespace {

// Runs `fn(address)` for every address at once, the last on this thread (which would
// only wait for it) and the others on `pool`; returns the statuses in order.
template <typename Fn>
std::vector<Status> CallAll(WorkerPool* pool, const std::vector<std::string>& addresses, Fn fn) {
  std::vector<Status> results(addresses.size());
  Latch all_done(addresses.size());
  for (size_t i = 0; i < addresses.size(); ++i) {
    auto call = [&, i] {
      results[i] = fn(addresses[i]);
      all_done.CountDown();
    };
    const bool last = i + 1 == addresses.size();
    if (last || !pool->Submit(call)) call();  // also when the pool is shutting down
  }
  all_done.Wait();
  return results;
}

// A call that failed this way may still have reached the chunkserver.
bool MayHaveArrived(const Status& s) {
  return s.code() == StatusCode::kDeadlineExceeded || s.code() == StatusCode::kUnknown ||
         s.code() == StatusCode::kCancelled;
}

std::string ChunkName(uint64_t handle) { return "chunk " + std::to_string(handle); }

}  // namespace

ChunkManager::ChunkManager(ChunkManagerOptions options, OpLog* log, ChunkServerRegistry* registry,
                           ChunkServerClient* chunkservers, Clock* clock)
    : options_(options),
      log_(log),
      registry_(registry),
      chunkservers_(chunkservers),
      clock_(clock),
      // A primary of the previous master incarnation may hold a lease for one more period.
      leases_allowed_from_us_(clock->MonotonicMicros() +
                              static_cast<int64_t>(options.lease_ms) * 1000),
      grant_done_(&mu_) {
  MetaTxn txn(log_->db(), log_->durable_snapshot());
  next_handle_ = NextChunkHandle(&txn);
  reserved_until_ = next_handle_;  // nothing reserved by this incarnation yet
  first_handle_of_this_run_ = next_handle_;
}

ChunkManager::HandleReservation::HandleReservation(ChunkManager* manager) : manager_(manager) {
  MutexLock lock(&manager_->mu_);
  if (manager_->next_handle_ >= manager_->reserved_until_) {
    // Log the next block before using any of it (one fsync per block).
    proto::LogEntry entry;
    entry.set_timestamp_us(manager_->clock_->NowMicros());
    entry.mutable_reserve_handles()->set_up_to(manager_->next_handle_ + kHandleBlock);
    Status s = manager_->log_->Propose(entry).status;
    if (!s.ok()) {
      status_ = s.Prepend("reserving chunk handles");
      return;
    }
    manager_->reserved_until_ = manager_->next_handle_ + kHandleBlock;
  }
  handle_ = manager_->next_handle_++;
  manager_->allocating_.insert(handle_);
}

ChunkManager::HandleReservation::~HandleReservation() {
  if (!status_.ok()) return;
  // However the allocation ended, the handle is logged by now, or garbage.
  MutexLock lock(&manager_->mu_);
  manager_->allocating_.erase(handle_);
}

int64_t ChunkManager::LeaseUntil(int64_t confirmed_us) const {
  // The primary counts from when the grant arrived, before `confirmed_us`; a small
  // margin covers clock-rate differences between the machines.
  const int64_t lease_us = static_cast<int64_t>(options_.lease_ms) * 1000;
  return confirmed_us + lease_us + lease_us / 20;
}

std::vector<std::string> ChunkManager::UpToDateReplicas(const ChunkState& state, uint64_t version) {
  std::vector<std::string> out;
  for (const auto& [address, replica_version] : state.replicas) {
    if (replica_version == version && registry_->IsAlive(address)) out.push_back(address);
  }
  return out;
}

Status ChunkManager::GetChunkLocations(const std::string& path, uint64_t first_index,
                                       uint64_t count, proto::GetChunkLocationsResponse* resp) {
  std::vector<proto::ChunkRecord> chunks;
  {
    MetaTxn txn(log_->db(), log_->durable_snapshot());
    GFS_ASSIGN_OR_RETURN(proto::InodeRecord file, ResolvePath(&txn, path));
    if (file.type() != proto::FILE_TYPE_FILE) {
      return Status::FailedPrecondition(path + " is a directory");
    }
    *resp->mutable_info() = ToFileInfo(file);
    GFS_ASSIGN_OR_RETURN(chunks, ListFileChunks(&txn, file.id(), first_index, count));
  }
  const int64_t now = clock_->MonotonicMicros();
  MutexLock lock(&mu_);
  for (const proto::ChunkRecord& chunk : chunks) {
    proto::ChunkLocation* location = resp->add_chunks();
    location->set_index(chunk.index());
    location->set_handle(chunk.handle());
    location->set_version(chunk.version());
    auto it = chunks_.find(chunk.handle());
    if (it == chunks_.end()) continue;  // no replica reported yet
    for (const std::string& address : UpToDateReplicas(it->second, chunk.version())) {
      location->add_replicas(address);
    }
    for (const std::string& address : it->second.corrupt) location->add_corrupt_replicas(address);
    const std::optional<Lease>& lease = it->second.lease;
    if (lease && !lease->revoked && lease->version == chunk.version() && lease->until_us > now) {
      location->set_primary(lease->primary);
    }
  }
  return Status::OK();
}

Status ChunkManager::GetWriteLease(const std::string& path, uint64_t index,
                                   proto::GetWriteLeaseResponse* resp, uint64_t inode_id) {
  // Two writers may race to allocate the same index: the loser uses the winner's chunk.
  for (int attempt = 0; attempt < 3; ++attempt) {
    proto::InodeRecord file;
    std::optional<proto::ChunkRecord> chunk;
    {
      MetaTxn txn(log_->db(), log_->durable_snapshot());
      GFS_ASSIGN_OR_RETURN(
          file, inode_id != 0 ? ResolveLiveInode(&txn, inode_id, path) : ResolvePath(&txn, path));
      if (file.type() != proto::FILE_TYPE_FILE) {
        return Status::FailedPrecondition(path + " is a directory");
      }
      GFS_ASSIGN_OR_RETURN(chunk, GetFileChunk(&txn, file.id(), index));
    }
    resp->set_chunk_size(file.chunk_size());
    resp->set_inode_id(file.id());
    if (chunk && chunk->refcount() > 1) {
      // Shared with a snapshot: the first write makes this file's own copy.
      bool fresh = false;
      Result<proto::ChunkRecord> copy = CopyOnWrite(file, *chunk, &fresh);
      if (copy.status().IsAlreadyExists()) continue;
      GFS_RETURN_IF_ERROR(
          copy.status().Prepend("copying shared chunk " + std::to_string(index) + " of " + path));
      return LeaseFor(*copy, file.chunk_size(), resp, fresh);
    }
    if (chunk) {
      Status s = LeaseFor(*chunk, file.chunk_size(), resp);
      if (s.IsAlreadyExists()) continue;  // a snapshot shares it now: copy it first
      return s;
    }
    Status allocated = AllocateChunk(file, index, resp);
    if (allocated.IsAlreadyExists()) continue;
    return allocated.Prepend("allocating chunk " + std::to_string(index) + " of " + path);
  }
  return Status::Unavailable("allocating chunk " + std::to_string(index) + " of " + path +
                             ": raced with other writers; retry");
}

Status ChunkManager::AllocateChunk(const proto::InodeRecord& file, uint64_t index,
                                   proto::GetWriteLeaseResponse* resp) {
  // One call per new chunk: the primary creates its replica as it takes the first lease,
  // and each secondary creates its own with the first mutation the primary forwards. A
  // placed secondary that is down fails that first write; the writer reports it, and
  // the next lease moves the chunk to a new version without it, as after any failed
  // write (creating it on the secondaries the failed write never reached).
  std::set<std::string> refused;
  Status last;
  for (int attempt = 0; attempt < kAllocationAttempts; ++attempt) {
    // A new handle for every attempt: a grant whose answer was lost may still have
    // reached its server, and must concern a handle nobody uses (an orphan, collected
    // as garbage), never the one logged with another primary.
    const HandleReservation reservation(this);
    GFS_RETURN_IF_ERROR(reservation.status());
    const uint64_t handle = reservation.handle();
    Result<std::vector<std::string>> placed =
        registry_->PlaceNewChunk(std::max<uint32_t>(1, file.replication()), refused);
    if (!placed.ok()) {
      if (refused.empty()) return placed.status();
      return Status::Unavailable(last.ToString() +
                                 "; no other chunkserver to try: " + placed.status().ToString());
    }
    const std::vector<std::string>& servers = *placed;
    const std::string& primary = servers.front();
    const std::vector<std::string> secondaries(servers.begin() + 1, servers.end());
    last = chunkservers_->GrantLease(primary, handle, 1, options_.lease_ms, file.chunk_size(),
                                     secondaries, /*create=*/true);
    const int64_t confirmed = clock_->MonotonicMicros();
    if (!last.ok()) {
      LOG(WARNING) << "new " << ChunkName(handle) << " (chunk " << index << " of inode "
                   << file.id() << "): " << last.ToString();
      refused.insert(primary);
      continue;
    }
    proto::LogEntry entry;
    entry.set_timestamp_us(clock_->NowMicros());
    proto::AddChunkOp* op = entry.mutable_add_chunk();
    op->set_inode_id(file.id());
    op->set_index(index);
    op->set_handle(handle);
    op->set_version(1);
    GFS_RETURN_IF_ERROR(
        LogNewChunk(entry, handle, servers, 1, Lease{primary, 1, LeaseUntil(confirmed), false}));
    VLOG(1) << "allocated " << ChunkName(handle) << " as chunk " << index << " of inode "
            << file.id() << " on " << servers.size() << " servers, primary " << primary;
    resp->set_handle(handle);
    resp->set_version(1);
    resp->set_primary(primary);
    for (const std::string& address : servers) resp->add_replicas(address);
    return Status::OK();
  }
  return Status::Unavailable("no chunkserver took the first lease of a new chunk: " +
                             last.ToString());
}

Status ChunkManager::LogNewChunk(const proto::LogEntry& entry, uint64_t handle,
                                 const std::vector<std::string>& holders, uint64_t version,
                                 std::optional<Lease> lease) {
  // Known before the entry is: another writer can read the new chunk from the log the
  // moment it is durable, and a lease grant that found fewer replicas than the chunk
  // has would move it to a new version on those alone, leaving the rest behind as stale
  // (seen in AppendTest: a new chunk left with one replica).
  {
    MutexLock lock(&mu_);
    ChunkState& state = chunks_[handle];
    for (const std::string& address : holders) RecordReplica(&state, address, version);
    if (lease) {
      for (const std::string& address : holders) {
        auto incarnation = incarnations_.find(address);
        if (address != lease->primary && incarnation != incarnations_.end() &&
            incarnation->second != 0) {
          state.awaiting_creation[address] = incarnation->second;
        }
      }
    }
    state.lease = std::move(lease);
  }
  Status logged = log_->Propose(entry).status;
  if (!logged.ok()) {
    // Not a chunk after all (its handle is still reserved, so no heartbeat has touched
    // this state): the replicas are orphans, which garbage collection reclaims.
    MutexLock lock(&mu_);
    chunks_.erase(handle);
  }
  return logged;
}

Result<proto::ChunkRecord> ChunkManager::CopyOnWrite(const proto::InodeRecord& file,
                                                     const proto::ChunkRecord& chunk, bool* fresh) {
  std::vector<std::string> targets;
  {
    MutexLock lock(&mu_);
    targets = UpToDateReplicas(chunks_[chunk.handle()], chunk.version());
  }
  if (targets.empty()) {
    return Status::Unavailable(ChunkName(chunk.handle()) + " has no live replica at version " +
                               std::to_string(chunk.version()));
  }
  const HandleReservation reservation(this);
  GFS_RETURN_IF_ERROR(reservation.status());
  const uint64_t handle = reservation.handle();
  std::vector<Status> cloned = CallAll(&calls_, targets, [&](const std::string& address) {
    return chunkservers_->CloneChunk(address, chunk.handle(), handle, chunk.version());
  });
  std::vector<std::string> holders;
  for (size_t i = 0; i < targets.size(); ++i) {
    if (cloned[i].ok()) {
      holders.push_back(targets[i]);
    } else {
      LOG(WARNING) << cloned[i].ToString();
    }
  }
  if (holders.empty()) {
    return Status::Unavailable("no replica could copy " + ChunkName(chunk.handle()) + ": " +
                               cloned.front().ToString());
  }
  *fresh = holders.size() == targets.size();
  proto::LogEntry entry;
  entry.set_timestamp_us(clock_->NowMicros());
  proto::CopyOnWriteOp* op = entry.mutable_copy_on_write();
  op->set_inode_id(file.id());
  op->set_index(chunk.index());
  op->set_old_handle(chunk.handle());
  op->set_new_handle(handle);
  op->set_version(chunk.version());
  GFS_RETURN_IF_ERROR(LogNewChunk(entry, handle, holders, chunk.version()));
  LOG(INFO) << ChunkName(chunk.handle()) << " is shared: copied to " << ChunkName(handle) << " on "
            << holders.size() << " replicas for inode " << file.id();
  proto::ChunkRecord record;
  record.set_handle(handle);
  record.set_version(chunk.version());
  record.set_inode_id(file.id());
  record.set_index(chunk.index());
  record.set_refcount(1);
  return record;
}

Status ChunkManager::FreezeForSnapshot(const std::vector<uint64_t>& handles) {
  std::vector<std::pair<std::string, uint64_t>> to_revoke;  // (primary, handle)
  {
    MutexLock lock(&mu_);
    for (uint64_t handle : handles) ++frozen_[handle];  // no new grant from now on
    // A grant that started before the freeze must finish first: its lease is revoked
    // below like any other.
    const auto wait_until =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.grant_wait_ms);
    for (uint64_t handle : handles) {
      while (chunks_[handle].granting) {
        const auto now = std::chrono::steady_clock::now();
        if (now >= wait_until) {
          for (uint64_t h : handles) {
            if (--frozen_[h] <= 0) frozen_.erase(h);
          }
          return Status::Unavailable(ChunkName(handle) + ": a lease grant is in progress");
        }
        grant_done_.WaitFor(wait_until - now);
      }
    }
    const int64_t now = clock_->MonotonicMicros();
    for (uint64_t handle : handles) {
      auto it = chunks_.find(handle);
      if (it == chunks_.end() || !it->second.lease) continue;
      if (it->second.lease->until_us > now)
        to_revoke.emplace_back(it->second.lease->primary, handle);
    }
  }
  Status result;
  for (const auto& [primary, handle] : to_revoke) {
    Status revoked = chunkservers_->RevokeLease(primary, handle);
    MutexLock lock(&mu_);
    auto it = chunks_.find(handle);
    if (it == chunks_.end() || !it->second.lease) continue;
    if (revoked.ok()) {
      it->second.lease->until_us = 0;
    } else if (result.ok()) {
      it->second.lease->revoked = true;
      result = Status::Unavailable(
          "the lease of " + primary + " on " + ChunkName(handle) +
          " could not be taken back and may be in force for " +
          std::to_string((it->second.lease->until_us - clock_->MonotonicMicros()) / 1000) +
          " more ms: " + revoked.ToString());
    }
  }
  if (!result.ok()) Unfreeze(handles);
  return result;
}

void ChunkManager::Unfreeze(const std::vector<uint64_t>& handles) {
  MutexLock lock(&mu_);
  for (uint64_t handle : handles) {
    auto it = frozen_.find(handle);
    if (it != frozen_.end() && --it->second <= 0) frozen_.erase(it);
  }
}

Result<std::vector<std::string>> ChunkManager::BumpVersion(uint64_t handle, uint64_t* version,
                                                           std::vector<std::string> targets) {
  // A replica whose call timed out may still have taken the new version without the
  // log counting it; it would then pass for up to date while missing every write of the
  // lease. So bump again, past it, on the replicas that answered, until none is in doubt.
  for (int round = 0; round < 3; ++round) {
    const uint64_t new_version = *version + 1;
    std::map<std::string, uint64_t> awaiting;
    {
      MutexLock lock(&mu_);
      awaiting = chunks_[handle].awaiting_creation;
    }
    std::vector<Status> updated = CallAll(&calls_, targets, [&](const std::string& address) {
      auto incarnation = awaiting.find(address);
      return chunkservers_->UpdateChunkVersion(
          address, handle, *version, new_version,
          incarnation == awaiting.end() ? 0 : incarnation->second);
    });
    std::vector<std::string> replicas;
    bool in_doubt = false;
    for (size_t i = 0; i < targets.size(); ++i) {
      if (updated[i].ok()) {
        replicas.push_back(targets[i]);
      } else {
        in_doubt = in_doubt || MayHaveArrived(updated[i]);
        LOG(WARNING) << ChunkName(handle) << ": " << updated[i].ToString()
                     << "; the replica is left behind";
      }
    }
    if (replicas.empty()) {
      return Status::Unavailable("no replica of " + ChunkName(handle) + " took version " +
                                 std::to_string(new_version) + ": " + updated.front().ToString());
    }
    proto::LogEntry entry;
    entry.set_timestamp_us(clock_->NowMicros());
    entry.mutable_set_chunk_version()->set_handle(handle);
    entry.mutable_set_chunk_version()->set_version(new_version);
    GFS_RETURN_IF_ERROR(log_->Propose(entry).status);
    {
      MutexLock lock(&mu_);
      ChunkState& state = chunks_[handle];
      for (const std::string& address : replicas) {
        RecordReplica(&state, address, new_version);
        state.awaiting_creation.erase(address);
      }
    }
    *version = new_version;
    if (!in_doubt) return replicas;
    targets = std::move(replicas);
  }
  return Status::Unavailable(ChunkName(handle) + ": replicas keep timing out on version changes");
}

Status ChunkManager::LeaseFor(const proto::ChunkRecord& chunk, uint64_t chunk_size,
                              proto::GetWriteLeaseResponse* resp, bool fresh) {
  const uint64_t handle = chunk.handle();
  std::vector<std::string> targets;
  uint64_t version = chunk.version();
  {
    MutexLock lock(&mu_);
    const auto wait_until =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.grant_wait_ms);
    while (chunks_[handle].granting) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= wait_until)
        return Status::Unavailable(ChunkName(handle) + ": lease grant in progress");
      grant_done_.WaitFor(wait_until - now);
    }
    // The caller read the record before waiting: another grant, a snapshot or a purge
    // may have changed it since. Decide on what the log says now.
    {
      MetaTxn txn(log_->db(), log_->durable_snapshot());
      Result<proto::ChunkRecord> current = GetChunk(&txn, handle);
      if (!current.ok()) return current.status();
      if (current->refcount() > 1) {
        return Status::AlreadyExists(ChunkName(handle) + " is shared by a snapshot now");
      }
      if (current->version() != version) fresh = false;
      version = current->version();
    }
    ChunkState& state = chunks_[handle];
    const int64_t now = clock_->MonotonicMicros();
    if (frozen_.count(handle) != 0) {
      return Status::Unavailable(ChunkName(handle) + " is being snapshotted or copied");
    }
    if (state.lease && state.lease->until_us > now) {
      const Lease& lease = *state.lease;
      if (!lease.revoked && lease.version == version && registry_->IsAlive(lease.primary)) {
        resp->set_handle(handle);
        resp->set_version(version);
        resp->set_primary(lease.primary);
        resp->add_replicas(lease.primary);
        for (const std::string& address : UpToDateReplicas(state, version)) {
          if (address != lease.primary) resp->add_replicas(address);
        }
        return Status::OK();
      }
      return Status::Unavailable(ChunkName(handle) + ": the lease of " + lease.primary +
                                 " may be in force for " +
                                 std::to_string((lease.until_us - now) / 1000) + " more ms");
    }
    if (handle < first_handle_of_this_run_ && now < leases_allowed_from_us_) {
      return Status::Unavailable("the master started recently; leases are granted in " +
                                 std::to_string((leases_allowed_from_us_ - now) / 1000) + " ms");
    }
    targets = UpToDateReplicas(state, version);
    if (targets.empty()) {
      return Status::Unavailable(ChunkName(handle) + " has no live replica at version " +
                                 std::to_string(version));
    }
    // Skipping the bump is safe only if every replica the master knows of is one of the
    // targets, at the version, and no lease was ever granted.
    if (fresh) {
      fresh = !state.lease && targets.size() == state.replicas.size();
      for (const auto& [address, replica_version] : state.replicas) {
        fresh = fresh && replica_version == version;
      }
    }
    state.granting = true;
  }

  // From here on, every exit clears `granting`.
  auto finish = [&](Status s) {
    MutexLock lock(&mu_);
    chunks_[handle].granting = false;
    grant_done_.SignalAll();
    return s;
  };

  // A chunk just created (or copied) on every replica asked, none of which could have
  // missed anything, needs no new version; any other first moves the replicas that
  // answer to version + 1, so that one that does not is stale from then on.
  uint64_t new_version = version;
  std::vector<std::string> replicas = targets;
  if (!fresh) {
    Result<std::vector<std::string>> bumped = BumpVersion(handle, &new_version, targets);
    if (!bumped.ok()) return finish(bumped.status());
    replicas = std::move(bumped).value();
  }

  const std::string primary = replicas.front();
  const std::vector<std::string> secondaries(replicas.begin() + 1, replicas.end());
  Status granted = chunkservers_->GrantLease(primary, handle, new_version, options_.lease_ms,
                                             chunk_size, secondaries, /*create=*/false);
  const int64_t confirmed = clock_->MonotonicMicros();
  {
    MutexLock lock(&mu_);
    ChunkState& state = chunks_[handle];
    if (granted.ok() || MayHaveArrived(granted)) {
      state.lease = Lease{primary, new_version, LeaseUntil(confirmed), !granted.ok()};
    }
  }
  if (!granted.ok()) return finish(Status::Unavailable(granted.ToString()));
  LOG(INFO) << "lease on " << ChunkName(handle) << " version " << new_version << " granted to "
            << primary << " (" << secondaries.size() << " secondaries)";
  resp->set_handle(handle);
  resp->set_version(new_version);
  resp->set_primary(primary);
  for (const std::string& address : replicas) resp->add_replicas(address);
  return finish(Status::OK());
}

void ChunkManager::ReportWriteFailure(uint64_t handle, uint64_t version,
                                      const std::vector<std::string>& failed_replicas) {
  std::string primary;
  {
    MutexLock lock(&mu_);
    auto it = chunks_.find(handle);
    if (it == chunks_.end() || !it->second.lease || it->second.lease->version != version ||
        it->second.lease->revoked) {
      return;  // already handled, or about an older lease
    }
    it->second.lease->revoked = true;
    primary = it->second.lease->primary;
  }
  LOG(INFO) << ChunkName(handle) << " version " << version << ": a write failed"
            << (failed_replicas.empty() ? "" : " (reported: " + failed_replicas.front() + ")")
            << "; revoking the lease of " << primary;
  Status revoked = chunkservers_->RevokeLease(primary, handle);
  MutexLock lock(&mu_);
  auto it = chunks_.find(handle);
  if (it == chunks_.end() || !it->second.lease) return;
  Lease& lease = *it->second.lease;
  if (revoked.ok() && lease.primary == primary && lease.version == version) {
    // The primary confirmed: no mutation under this lease can start any more.
    lease.until_us = 0;
  } else if (!revoked.ok()) {
    LOG(WARNING) << ChunkName(handle) << ": " << revoked.ToString()
                 << "; waiting for the lease to expire";
  }
}

void ChunkManager::ProcessHeartbeat(const proto::HeartbeatRequest& req,
                                    proto::HeartbeatResponse* resp) {
  const std::string& address = req.address();
  resp->set_lease_ms(options_.lease_ms);

  // Versions the master has logged, for the reported chunks.
  std::map<uint64_t, uint64_t> logged;
  {
    MetaTxn txn(log_->db(), log_->durable_snapshot());
    for (const proto::ChunkReport& report : req.chunks()) {
      Result<proto::ChunkRecord> chunk = GetChunk(&txn, report.handle());
      if (chunk.ok()) logged[report.handle()] = chunk->version();
    }
  }
  // A replica ahead of the log: the master failed between bumping replicas and logging
  // the bump. No write happened at that version (no lease was granted), so adopt it.
  for (const proto::ChunkReport& report : req.chunks()) {
    auto it = logged.find(report.handle());
    if (it == logged.end() || report.version() <= it->second) continue;
    proto::LogEntry entry;
    entry.set_timestamp_us(clock_->NowMicros());
    entry.mutable_set_chunk_version()->set_handle(report.handle());
    entry.mutable_set_chunk_version()->set_version(report.version());
    Status s = log_->Propose(entry).status;
    if (s.ok()) {
      LOG(INFO) << ChunkName(report.handle()) << ": adopted version " << report.version()
                << " reported by " << address;
      it->second = report.version();
    } else {
      LOG(WARNING) << ChunkName(report.handle())
                   << ": adopting a reported version: " << s.ToString();
    }
  }

  const int64_t now = clock_->MonotonicMicros();
  MutexLock lock(&mu_);
  incarnations_[address] = req.incarnation();
  if (req.full_report()) {
    for (auto& [handle, state] : chunks_) {
      // A report built before this master created the replica (or moved it to a new
      // version) lacks it; the server's next heartbeat reports the change.
      if (!RecentlyRecorded(state, address)) state.replicas.erase(address);
    }
    last_full_report_us_[address] = now;
  } else if (now - last_full_report_us_[address] > options_.full_report_interval_ms * 1000) {
    resp->set_send_full_report(true);
  }
  // Garbage: replicas of chunks no file references (orphans) and stale replicas. The
  // server deletes one only while its version is still the reported one.
  size_t orphans = 0, stale = 0;
  auto collect = [&](const proto::ChunkReport& report) {
    if (static_cast<size_t>(resp->delete_chunks_size()) >= options_.max_deletes_per_heartbeat) {
      return;
    }
    *resp->add_delete_chunks() = report;
  };
  for (const proto::ChunkReport& report : req.chunks()) {
    auto it = logged.find(report.handle());
    if (it == logged.end()) {
      // Not in the snapshot read above. It may have been allocated since: a handle that
      // is no longer being allocated is either logged by now or garbage, so read again
      // (under mu_, which the allocation's end also takes).
      if (allocating_.count(report.handle()) != 0) continue;
      MetaTxn txn(log_->db(), log_->durable_snapshot());
      Result<proto::ChunkRecord> chunk = GetChunk(&txn, report.handle());
      if (chunk.ok()) {
        it = logged.emplace(report.handle(), chunk->version()).first;
      } else {
        if (chunk.status().IsNotFound()) {
          ++orphans;
          collect(report);
        }
        continue;
      }
    }
    ChunkState& state = chunks_[report.handle()];
    if (state.copying_to.count(address) != 0) continue;  // a copy in the making
    if (RecentlyRecorded(state, address) && report.version() < state.replicas[address]) {
      continue;  // built before this master moved the replica to its new version
    }
    if (report.version() < it->second) {
      ++stale;
      collect(report);
    }
    if (state.corrupt.count(address) != 0) continue;  // known bad: not a replica
    state.replicas[address] = report.version();
    state.awaiting_creation.erase(address);
  }
  if (orphans + stale > 0) {
    LOG(INFO) << address << " holds " << orphans << " orphaned and " << stale << " stale replicas; "
              << resp->delete_chunks_size() << " to delete now";
  }
  for (uint64_t handle : req.removed()) {
    auto it = chunks_.find(handle);
    if (it != chunks_.end()) {
      it->second.replicas.erase(address);
      it->second.recorded_us.erase(address);
    }
  }
  for (uint64_t handle : req.corrupt()) {
    // Remembered even for a chunk not seen yet (a report right after a master restart).
    ChunkState& state = chunks_[handle];
    state.replicas.erase(address);
    state.recorded_us.erase(address);
    if (state.corrupt.insert(address).second) {
      LOG(ERROR) << ChunkName(handle) << " is corrupt on " << address
                 << "; no longer handed out from there";
    }
  }
  for (uint64_t handle : req.removed()) {
    auto it = chunks_.find(handle);
    if (it != chunks_.end()) it->second.corrupt.erase(address);  // gone: no longer bad
  }
  for (const proto::ChunkReport& wanted : req.lease_extensions()) {
    auto it = chunks_.find(wanted.handle());
    if (it == chunks_.end() || !it->second.lease) continue;
    Lease& lease = *it->second.lease;
    if (lease.primary != address || lease.version != wanted.version() || lease.revoked ||
        lease.until_us <= now) {
      continue;
    }
    lease.until_us = LeaseUntil(now);
    resp->add_extended_leases(wanted.handle());
  }
}

size_t ChunkManager::ReplicateOnce(size_t max_copies) {
  // Chunks that may lack replicas, with what the master knows of their replicas.
  std::vector<std::pair<uint64_t, std::map<std::string, uint64_t>>> suspects;
  {
    MutexLock lock(&mu_);
    const int64_t now = clock_->MonotonicMicros();
    for (const auto& [handle, state] : chunks_) {
      if (state.granting || frozen_.count(handle) != 0) continue;
      if (state.lease && state.lease->until_us > now) continue;  // being written: later
      std::map<std::string, uint64_t> replicas = state.replicas;
      for (const auto& [address, incarnation] : state.awaiting_creation) replicas.erase(address);
      suspects.emplace_back(handle, std::move(replicas));
    }
  }
  std::vector<uint64_t> gone;
  struct Need {
    uint64_t handle, version;
    std::vector<std::string> live;
    std::set<std::string> holders;
  };
  std::vector<Need> needs;
  uint64_t without_live_replica = 0;
  {
    MetaTxn txn(log_->db(), log_->durable_snapshot());
    for (auto& [handle, replicas] : suspects) {
      Result<proto::ChunkRecord> chunk = GetChunk(&txn, handle);
      if (!chunk.ok()) {
        // No file references it: once no replica is left either, forget it.
        if (chunk.status().IsNotFound() && replicas.empty()) gone.push_back(handle);
        continue;
      }
      proto::InodeRecord file;
      if (!txn.GetProto(InodeKey(chunk->inode_id()), &file).ok()) continue;
      Need need{handle, chunk->version(), {}, {}};
      for (const auto& [address, version] : replicas) {
        need.holders.insert(address);
        if (version == chunk->version() && registry_->IsAlive(address))
          need.live.push_back(address);
      }
      if (need.live.empty()) ++without_live_replica;
      if (!need.live.empty() && need.live.size() < std::max<uint32_t>(1, file.replication())) {
        needs.push_back(std::move(need));
      }
    }
  }
  {
    MutexLock lock(&mu_);
    last_under_replicated_ = needs.size();
    last_without_live_replica_ = without_live_replica;
    for (uint64_t handle : gone) {
      auto it = chunks_.find(handle);
      if (it == chunks_.end()) continue;
      const bool lease_over =
          !it->second.lease || it->second.lease->until_us <= clock_->MonotonicMicros();
      if (it->second.replicas.empty() && !it->second.granting && lease_over &&
          frozen_.count(handle) == 0 && allocating_.count(handle) == 0) {
        chunks_.erase(it);
      }
    }
  }
  std::sort(needs.begin(), needs.end(),
            [](const Need& a, const Need& b) { return a.live.size() < b.live.size(); });
  size_t copied = 0;
  for (size_t i = 0; i < needs.size() && i < max_copies; ++i) {
    Need& need = needs[i];
    {
      MutexLock lock(&mu_);
      ChunkState& state = chunks_[need.handle];
      if (state.granting || (state.lease && state.lease->until_us > clock_->MonotonicMicros())) {
        continue;
      }
      need.holders.insert(state.corrupt.begin(), state.corrupt.end());
      ++frozen_[need.handle];  // no lease, hence no write, while the copy runs
    }
    Result<std::vector<std::string>> target = registry_->PlaceNewChunk(1, need.holders);
    Status s = target.status();
    if (s.ok()) {
      {
        // The copy is reported at version 0 until it is complete: not garbage.
        MutexLock lock(&mu_);
        chunks_[need.handle].copying_to.insert(target->front());
      }
      s = chunkservers_->CopyChunkFrom(target->front(), need.handle, need.version,
                                       need.live.front());
    }
    {
      MutexLock lock(&mu_);
      if (target.ok()) chunks_[need.handle].copying_to.erase(target->front());
      if (s.ok()) {
        ChunkState& state = chunks_[need.handle];
        RecordReplica(&state, target->front(), need.version);
        state.awaiting_creation.erase(target->front());
      }
    }
    Unfreeze({need.handle});
    if (s.ok()) {
      ++copied;
      LOG(INFO) << ChunkName(need.handle) << " had " << need.live.size()
                << " live replicas; copied to " << target->front() << " from " << need.live.front();
    } else if (!s.IsUnavailable()) {
      LOG(WARNING) << "re-replicating " << ChunkName(need.handle) << ": " << s.ToString();
    }
  }
  return copied;
}

std::map<std::string, uint64_t> ChunkManager::ReplicaCounts() {
  MutexLock lock(&mu_);
  std::map<std::string, uint64_t> counts;
  for (const auto& [handle, state] : chunks_) {
    for (const auto& [address, version] : state.replicas) ++counts[address];
  }
  return counts;
}

ChunkManager::Stats ChunkManager::stats() {
  MutexLock lock(&mu_);
  Stats stats;
  const int64_t now = clock_->MonotonicMicros();
  for (const auto& [handle, state] : chunks_) {
    if (!state.replicas.empty()) ++stats.chunks_with_replicas;
    stats.replicas += state.replicas.size();
    if (state.lease && !state.lease->revoked && state.lease->until_us > now) ++stats.leases;
  }
  stats.under_replicated = last_under_replicated_;
  stats.without_live_replica = last_without_live_replica_;
  return stats;
}

void ChunkManager::ServerDead(const std::string& address) {
  MutexLock lock(&mu_);
  for (auto& [handle, state] : chunks_) {
    state.replicas.erase(address);
    state.recorded_us.erase(address);
  }
}

void ChunkManager::RecordReplica(ChunkState* state, const std::string& address, uint64_t version) {
  state->replicas[address] = version;
  state->recorded_us[address] = clock_->MonotonicMicros();
}

bool ChunkManager::RecentlyRecorded(const ChunkState& state, const std::string& address) {
  auto it = state.recorded_us.find(address);
  return it != state.recorded_us.end() && clock_->MonotonicMicros() - it->second < kReportRaceUs;
}

}  // namespace gfs::master
