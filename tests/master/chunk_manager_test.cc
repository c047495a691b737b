// Chunk allocation, versions and leases, against stand-in chunkservers and a manual
// clock.
#include "master/chunk_manager.h"

#include <set>

#include "master/snapshotter.h"
#include "tests/master/namespace_fixture.h"

namespace gfs::master {
namespace {

// Chunkservers as the master sees them through ChunkServerClient: replicas with
// versions, leases granted, and servers that do not answer.
class FakeChunkServers : public ChunkServerClient {
 public:
  Status UpdateChunkVersion(const std::string& address, uint64_t handle, uint64_t expected,
                            uint64_t new_version, uint64_t create_incarnation) override {
    MutexLock lock(&mu_);
    if (down_.count(address)) return Status::Unavailable(address + " is down");
    if (create_incarnation != 0 && versions_.count({address, handle}) == 0) {
      if (create_incarnation != Incarnation(address)) return Status::NotFound("restarted");
      versions_[{address, handle}] = expected;
    }
    uint64_t& version = versions_[{address, handle}];
    if (version != expected) return Status::FailedPrecondition("version mismatch");
    version = new_version;
    if (slow_.count(address)) return Status::DeadlineExceeded(address + " answered too late");
    return Status::OK();
  }
  // Calls to `address` take effect but answer DEADLINE_EXCEEDED.
  void SetSlow(const std::string& address) {
    MutexLock lock(&mu_);
    slow_.insert(address);
  }
  Status GrantLease(const std::string& address, uint64_t handle, uint64_t version, uint64_t,
                    uint64_t, const std::vector<std::string>& secondaries, bool create) override {
    MutexLock lock(&mu_);
    if (down_.count(address)) return Status::Unavailable(address + " is down");
    if (create) {
      versions_.emplace(std::make_pair(address, handle), version);
      new_chunk_secondaries_[handle] = secondaries;
    }
    if (versions_[{address, handle}] != version) return Status::FailedPrecondition("version");
    ++grants_;
    primaries_[handle] = {address, version};
    return Status::OK();
  }
  // The first mutation under the lease that created `handle`: the secondaries that are
  // up create their replicas. Returns those that are down (the write failed there).
  std::vector<std::string> FirstMutation(uint64_t handle, uint64_t version) {
    MutexLock lock(&mu_);
    std::vector<std::string> failed;
    auto it = new_chunk_secondaries_.find(handle);
    if (it == new_chunk_secondaries_.end()) return failed;  // not the first mutation
    const std::vector<std::string> secondaries = std::move(it->second);
    new_chunk_secondaries_.erase(it);
    for (const std::string& address : secondaries) {
      if (down_.count(address)) {
        failed.push_back(address);
      } else {
        versions_.emplace(std::make_pair(address, handle), version);
      }
    }
    return failed;
  }
  Status RevokeLease(const std::string& address, uint64_t handle) override {
    MutexLock lock(&mu_);
    if (down_.count(address)) return Status::Unavailable(address + " is down");
    primaries_.erase(handle);
    ++revokes_;
    return Status::OK();
  }

  Status CloneChunk(const std::string& address, uint64_t src, uint64_t dst,
                    uint64_t version) override {
    MutexLock lock(&mu_);
    if (down_.count(address)) return Status::Unavailable(address + " is down");
    if (versions_[{address, src}] != version) return Status::FailedPrecondition("version");
    versions_[{address, dst}] = version;
    ++clones_;
    return Status::OK();
  }
  Status CopyChunkFrom(const std::string& address, uint64_t handle, uint64_t version,
                       const std::string& source) override {
    MutexLock lock(&mu_);
    if (down_.count(address) || down_.count(source)) return Status::Unavailable("down");
    if (versions_[{source, handle}] != version) return Status::FailedPrecondition("version");
    versions_[{address, handle}] = version;
    ++copies_;
    return Status::OK();
  }
  int copies() {
    MutexLock lock(&mu_);
    return copies_;
  }
  int clones() {
    MutexLock lock(&mu_);
    return clones_;
  }

  void SetDown(const std::string& address, bool down) {
    MutexLock lock(&mu_);
    if (down) {
      down_.insert(address);
    } else {
      down_.erase(address);
    }
  }
  // The incarnation `address` sends in its heartbeats.
  uint64_t Incarnation(const std::string& address) REQUIRES(mu_) {
    return incarnations_.emplace(address, 1).first->second;
  }
  uint64_t incarnation(const std::string& address) {
    MutexLock lock(&mu_);
    return Incarnation(address);
  }
  // `address` restarts: a new incarnation, and the replicas it never synced are gone.
  void Restart(const std::string& address, const std::vector<uint64_t>& lost) {
    MutexLock lock(&mu_);
    ++incarnations_[address];
    for (uint64_t handle : lost) versions_.erase({address, handle});
  }
  // `address` loses its replica of `handle`.
  void Forget(const std::string& address, uint64_t handle) {
    MutexLock lock(&mu_);
    versions_.erase({address, handle});
  }
  // 0 when `address` holds no replica of `handle`.
  uint64_t version(const std::string& address, uint64_t handle) {
    MutexLock lock(&mu_);
    auto it = versions_.find({address, handle});
    return it == versions_.end() ? 0 : it->second;
  }
  int grants() {
    MutexLock lock(&mu_);
    return grants_;
  }
  int revokes() {
    MutexLock lock(&mu_);
    return revokes_;
  }

 private:
  Mutex mu_;
  std::set<std::string> down_;
  std::set<std::string> slow_;
  std::map<std::pair<std::string, uint64_t>, uint64_t> versions_;
  std::map<uint64_t, std::pair<std::string, uint64_t>> primaries_;
  std::map<uint64_t, std::vector<std::string>> new_chunk_secondaries_;
  std::map<std::string, uint64_t> incarnations_;
  int grants_ = 0;
  int revokes_ = 0;
  int clones_ = 0;
  int copies_ = 0;
};

constexpr uint64_t kLeaseMs = 1000;
constexpr int64_t kHeartbeatTimeoutMs = 3000;

class ChunkManagerTest : public NamespaceFixture {
 protected:
  void SetUp() override {
    NamespaceFixture::SetUp();
    registry_ = std::make_unique<ChunkServerRegistry>(&clock_, kHeartbeatTimeoutMs);
    for (const std::string& address : servers_) Heartbeat(address, /*full=*/true);
    manager_ = std::make_unique<ChunkManager>(ChunkManagerOptions{kLeaseMs, 1000}, log_.get(),
                                              registry_.get(), &fake_, &clock_);
    for (const std::string& address : servers_) Heartbeat(address, /*full=*/false);
    // Leases are held back for one lease period after the master starts.
    clock_.Advance(kLeaseMs * 1000);
    ASSERT_OK(ns_->CreateFile("/f", 3, false));
  }

  proto::HeartbeatResponse Heartbeat(const std::string& address, bool full,
                                     std::vector<proto::ChunkReport> reports = {},
                                     std::vector<proto::ChunkReport> extensions = {}) {
    proto::HeartbeatRequest req;
    req.set_address(address);
    req.set_rack("rack-" + address);
    req.set_capacity_bytes(1000);
    req.set_full_report(full);
    req.set_incarnation(fake_.incarnation(address));
    for (const auto& r : reports) *req.add_chunks() = r;
    for (const auto& r : extensions) *req.add_lease_extensions() = r;
    proto::HeartbeatResponse resp;
    if (registry_->Heartbeat(address, req.rack(), 1000, 0, full)) {
      resp.set_reregister(true);
    } else if (manager_ != nullptr) {
      manager_->ProcessHeartbeat(req, &resp);
    }
    return resp;
  }

  // Keeps every server but `silent` alive while time passes.
  void AdvanceWithHeartbeats(int64_t ms, const std::string& silent = "") {
    for (int64_t done = 0; done < ms; done += 500) {
      clock_.Advance(500 * 1000);
      for (const std::string& address : servers_) {
        if (address != silent) Heartbeat(address, false);
      }
      for (const std::string& dead : registry_->ExpireSilent()) manager_->ServerDead(dead);
    }
  }

  // The lease, followed by a write under it: a new chunk's first write creates its
  // secondaries' replicas (on those that are up), which their next heartbeats report.
  Status GetWriteLease(const std::string& path, uint64_t index,
                       proto::GetWriteLeaseResponse* lease) {
    Status s = manager_->GetWriteLease(path, index, lease);
    if (!s.ok()) return s;
    const std::vector<std::string> failed = fake_.FirstMutation(lease->handle(), lease->version());
    for (const std::string& address : lease->replicas()) {
      if (std::find(failed.begin(), failed.end(), address) != failed.end()) continue;
      proto::ChunkReport report;
      report.set_handle(lease->handle());
      report.set_version(lease->version());
      Heartbeat(address, /*full=*/false, {report});
    }
    return s;
  }

  uint64_t LoggedVersion(uint64_t handle) {
    proto::GetChunkLocationsResponse resp;
    EXPECT_OK(manager_->GetChunkLocations("/f", 0, 0, &resp));
    for (const auto& chunk : resp.chunks()) {
      if (chunk.handle() == handle) return chunk.version();
    }
    return 0;
  }

  const std::vector<std::string> servers_ = {"cs1:1", "cs2:1", "cs3:1", "cs4:1"};
  FakeChunkServers fake_;
  std::unique_ptr<ChunkServerRegistry> registry_;
  std::unique_ptr<ChunkManager> manager_;
};

TEST_F(ChunkManagerTest, AllocatesOnDistinctServersAndGrantsALease) {
  proto::GetWriteLeaseResponse lease;
  ASSERT_OK(GetWriteLease("/f", 0, &lease));
  ASSERT_EQ(lease.replicas_size(), 3);
  std::set<std::string> distinct(lease.replicas().begin(), lease.replicas().end());
  EXPECT_EQ(distinct.size(), 3u);
  EXPECT_EQ(lease.replicas(0), lease.primary());
  EXPECT_EQ(lease.chunk_size(), NamespaceOptions{}.chunk_size_bytes);
  // Created at version 1 by the primary as it took the lease, by the secondaries with
  // the first write: no version bump, one call to a chunkserver.
  EXPECT_EQ(lease.version(), 1u);
  for (const std::string& address : lease.replicas()) {
    EXPECT_EQ(fake_.version(address, lease.handle()), 1u) << address;
  }
  EXPECT_EQ(fake_.grants(), 1);
  EXPECT_EQ(LoggedVersion(lease.handle()), 1u);

  // While the lease lasts, writers get the same one: no new version, no new grant.
  proto::GetWriteLeaseResponse again;
  ASSERT_OK(GetWriteLease("/f", 0, &again));
  EXPECT_EQ(again.handle(), lease.handle());
  EXPECT_EQ(again.version(), 1u);
  EXPECT_EQ(again.primary(), lease.primary());
  EXPECT_EQ(fake_.grants(), 1);

  // Another index gets another chunk.
  proto::GetWriteLeaseResponse second;
  ASSERT_OK(GetWriteLease("/f", 1, &second));
  EXPECT_NE(second.handle(), lease.handle());
}

TEST_F(ChunkManagerTest, APlacedServerThatIsDownIsLeftOutAtTheFirstWrite) {
  // A server that does not answer but is not known dead yet. Placement puts cs1 first
  // (all else equal, the lowest address) and cs4 last. As the primary, cs1 refuses the
  // grant and the chunk goes elsewhere; as a secondary, cs4 fails the first write, and
  // the next lease moves the other replicas to a new version, so that cs4 can never
  // pass for up to date.
  int file = 0;
  for (const std::string down : {"cs1:1", "cs4:1"}) {
    SCOPED_TRACE(down + " down");
    for (const std::string& address : servers_) fake_.SetDown(address, address == down);
    const std::string path = "/g" + std::to_string(file++);
    ASSERT_OK(ns_->CreateFile(path, 4, false));
    proto::GetWriteLeaseResponse lease;
    ASSERT_OK(manager_->GetWriteLease(path, 0, &lease));
    EXPECT_NE(lease.primary(), down);
    EXPECT_EQ(lease.version(), 1u);
    const std::vector<std::string> failed = fake_.FirstMutation(lease.handle(), lease.version());
    if (down == "cs1:1") {
      EXPECT_EQ(lease.replicas_size(), 3);  // refused as primary, left out
      EXPECT_TRUE(failed.empty());
    } else {
      EXPECT_EQ(lease.replicas_size(), 4);  // placed as a secondary
      ASSERT_EQ(failed, std::vector<std::string>{down});
      manager_->ReportWriteFailure(lease.handle(), lease.version(), failed);
      lease.Clear();
      ASSERT_OK(manager_->GetWriteLease(path, 0, &lease));
      EXPECT_EQ(lease.version(), 2u);
    }
    ASSERT_EQ(lease.replicas_size(), 3);
    for (const std::string& address : lease.replicas()) {
      EXPECT_NE(address, down);
      EXPECT_EQ(fake_.version(address, lease.handle()), lease.version()) << address;
    }
  }
}

TEST_F(ChunkManagerTest, SecondariesTheFirstWriteNeverReachedAreCreatedByTheNextVersion) {
  // The first write under a new chunk's lease failed before any mutation (its push
  // broke): no secondary has the chunk. The next lease creates it on them at the new
  // version, so the chunk keeps all its replicas.
  proto::GetWriteLeaseResponse lease;
  ASSERT_OK(manager_->GetWriteLease("/f", 0, &lease));
  for (const std::string& address : lease.replicas()) {
    EXPECT_EQ(fake_.version(address, lease.handle()), address == lease.primary() ? 1u : 0u);
  }
  manager_->ReportWriteFailure(lease.handle(), lease.version(), {});
  proto::GetWriteLeaseResponse next;
  ASSERT_OK(manager_->GetWriteLease("/f", 0, &next));
  EXPECT_EQ(next.version(), 2u);
  ASSERT_EQ(next.replicas_size(), 3);
  for (const std::string& address : next.replicas()) {
    EXPECT_EQ(fake_.version(address, lease.handle()), 2u) << address;
  }
  // Their creation is done: a later version change only moves existing replicas.
  manager_->ReportWriteFailure(next.handle(), next.version(), {});
  const std::string gone = next.replicas(1);
  fake_.Forget(gone, next.handle());
  proto::GetWriteLeaseResponse third;
  ASSERT_OK(manager_->GetWriteLease("/f", 0, &third));
  EXPECT_EQ(third.version(), 3u);
  EXPECT_EQ(third.replicas_size(), 2);
  for (const std::string& address : third.replicas()) EXPECT_NE(address, gone);
}

TEST_F(ChunkManagerTest, ASecondaryThatRestartedIsNeverCreatedEmpty) {
  // A secondary applies the first write of a new chunk, then restarts before it synced
  // or reported it (and before any heartbeat tells the master). A version change must
  // not recreate its replica empty, which would pass for up to date without the write:
  // it is left behind instead.
  for (bool heartbeat_after_restart : {false, true}) {
    const std::string path = heartbeat_after_restart ? "/h" : "/g";
    ASSERT_OK(ns_->CreateFile(path, 3, false));
    proto::GetWriteLeaseResponse lease;
    ASSERT_OK(manager_->GetWriteLease(path, 0, &lease));
    // The first write reaches every replica; no heartbeat reports it yet.
    ASSERT_TRUE(fake_.FirstMutation(lease.handle(), lease.version()).empty());
    const std::string restarted = lease.replicas(1);
    fake_.Restart(restarted, {lease.handle()});
    if (heartbeat_after_restart) Heartbeat(restarted, /*full=*/false);
    manager_->ReportWriteFailure(lease.handle(), lease.version(), {});
    proto::GetWriteLeaseResponse next;
    ASSERT_OK(manager_->GetWriteLease(path, 0, &next));
    EXPECT_EQ(next.version(), 2u);
    EXPECT_EQ(next.replicas_size(), 2);
    for (const std::string& address : next.replicas()) EXPECT_NE(address, restarted);
    EXPECT_EQ(fake_.version(restarted, lease.handle()), 0u) << path;
  }
}

TEST_F(ChunkManagerTest, SecondariesNeverCreatedAreNotCountedForCopies) {
  // The writer of a new chunk went away before its first write: only the primary has
  // the chunk. Once the lease is over, the chunk is copied as a chunk with one replica.
  proto::GetWriteLeaseResponse lease;
  ASSERT_OK(manager_->GetWriteLease("/f", 0, &lease));
  AdvanceWithHeartbeats(kLeaseMs * 2);
  EXPECT_EQ(manager_->ReplicateOnce(8), 1u);  // one copy of a chunk per round
  EXPECT_EQ(manager_->ReplicateOnce(8), 1u);
  EXPECT_EQ(manager_->ReplicateOnce(8), 0u);
  EXPECT_EQ(fake_.copies(), 2);
}

TEST_F(ChunkManagerTest, NoChunkWhenNoPrimaryTakesTheFirstLease) {
  for (const std::string& address : servers_) fake_.SetDown(address, true);
  proto::GetWriteLeaseResponse lease;
  Status s = manager_->GetWriteLease("/f", 0, &lease);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_NE(s.message().find("allocating chunk 0 of /f"), std::string::npos) << s.ToString();
  proto::GetChunkLocationsResponse locations;
  ASSERT_OK(manager_->GetChunkLocations("/f", 0, 0, &locations));
  EXPECT_EQ(locations.chunks_size(), 0);  // nothing logged
  // Servers back: the next writer allocates it.
  for (const std::string& address : servers_) fake_.SetDown(address, false);
  ASSERT_OK(GetWriteLease("/f", 0, &lease));
  EXPECT_EQ(lease.version(), 1u);
}

TEST_F(ChunkManagerTest, NoNewPrimaryWhileTheOldLeaseMayBeAlive) {
  proto::GetWriteLeaseResponse lease;
  ASSERT_OK(GetWriteLease("/f", 0, &lease));
  const std::string old_primary = lease.primary();
  // The primary stops answering; a client reports its failed write. The revocation
  // cannot reach the primary, so its lease may still be in force.
  fake_.SetDown(old_primary, true);
  manager_->ReportWriteFailure(lease.handle(), lease.version(), {old_primary});
  AdvanceWithHeartbeats(kLeaseMs / 2, old_primary);
  proto::GetWriteLeaseResponse during;
  Status s = GetWriteLease("/f", 0, &during);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_NE(s.message().find("may be in force"), std::string::npos) << s.ToString();
  // Once the lease is surely over, another replica becomes primary at a new version;
  // the silent one misses the version and is left behind.
  AdvanceWithHeartbeats(kLeaseMs, old_primary);
  proto::GetWriteLeaseResponse after;
  ASSERT_OK(GetWriteLease("/f", 0, &after));
  EXPECT_NE(after.primary(), old_primary);
  EXPECT_EQ(after.version(), 2u);
  EXPECT_EQ(after.replicas_size(), 2);
  for (const std::string& address : after.replicas()) EXPECT_NE(address, old_primary);
}

TEST_F(ChunkManagerTest, ReportedFailureRevokesAndRegrantsAtNewVersion) {
  proto::GetWriteLeaseResponse lease;
  ASSERT_OK(GetWriteLease("/f", 0, &lease));
  // One secondary stops answering; the client reports the failed write.
  const std::string broken = lease.replicas(2);
  fake_.SetDown(broken, true);
  manager_->ReportWriteFailure(lease.handle(), lease.version(), {broken});
  EXPECT_EQ(fake_.revokes(), 1);
  proto::GetWriteLeaseResponse fresh;
  ASSERT_OK(GetWriteLease("/f", 0, &fresh));  // no wait: the primary confirmed
  EXPECT_EQ(fresh.version(), lease.version() + 1);
  EXPECT_EQ(fresh.replicas_size(), 2);
  EXPECT_EQ(fake_.version(broken, lease.handle()), lease.version());  // stale now

  // The stale replica comes back and reports its old version: never handed out.
  fake_.SetDown(broken, false);
  proto::ChunkReport report;
  report.set_handle(lease.handle());
  report.set_version(lease.version());
  Heartbeat(broken, false, {report});
  proto::GetChunkLocationsResponse locations;
  ASSERT_OK(manager_->GetChunkLocations("/f", 0, 0, &locations));
  ASSERT_EQ(locations.chunks_size(), 1);
  EXPECT_EQ(locations.chunks(0).replicas_size(), 2);
  for (const std::string& address : locations.chunks(0).replicas()) EXPECT_NE(address, broken);

  // A second report about the old lease changes nothing.
  manager_->ReportWriteFailure(lease.handle(), lease.version(), {});
  EXPECT_EQ(fake_.revokes(), 1);
}

TEST_F(ChunkManagerTest, OldChunksWaitOneLeasePeriodAfterStart) {
  proto::GetWriteLeaseResponse old_chunk;
  ASSERT_OK(GetWriteLease("/f", 0, &old_chunk));
  // A new master incarnation: the previous one's primary may still hold its lease.
  manager_ = std::make_unique<ChunkManager>(ChunkManagerOptions{kLeaseMs, 1000}, log_.get(),
                                            registry_.get(), &fake_, &clock_);
  proto::ChunkReport report;
  report.set_handle(old_chunk.handle());
  report.set_version(old_chunk.version());
  for (const std::string& address : old_chunk.replicas()) Heartbeat(address, true, {report});
  proto::GetWriteLeaseResponse lease;
  Status s = GetWriteLease("/f", 0, &lease);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_NE(s.message().find("started recently"), std::string::npos) << s.ToString();
  // A chunk allocated by this incarnation cannot have an older lease: no wait.
  ASSERT_OK(GetWriteLease("/f", 1, &lease));
  clock_.Advance(kLeaseMs * 1000);
  ASSERT_OK(GetWriteLease("/f", 0, &lease));
  EXPECT_EQ(lease.version(), old_chunk.version() + 1);
}

TEST_F(ChunkManagerTest, AdoptsAHigherReportedVersion) {
  proto::GetWriteLeaseResponse lease;
  ASSERT_OK(GetWriteLease("/f", 0, &lease));
  // As if the master had died after moving a replica to version 3 but before logging it.
  proto::ChunkReport report;
  report.set_handle(lease.handle());
  report.set_version(lease.version() + 1);
  Heartbeat(lease.replicas(1), true, {report});
  EXPECT_EQ(LoggedVersion(lease.handle()), lease.version() + 1);
}

TEST_F(ChunkManagerTest, HeartbeatsExtendLeasesOfTheirPrimary) {
  proto::GetWriteLeaseResponse lease;
  ASSERT_OK(GetWriteLease("/f", 0, &lease));
  proto::ChunkReport wanted;
  wanted.set_handle(lease.handle());
  wanted.set_version(lease.version());
  // A server that is not the primary cannot extend it.
  EXPECT_EQ(Heartbeat(lease.replicas(1), false, {}, {wanted}).extended_leases_size(), 0);
  for (int i = 0; i < 4; ++i) {
    clock_.Advance(kLeaseMs * 1000 / 2);
    for (const std::string& address : servers_) Heartbeat(address, false);
    proto::HeartbeatResponse resp = Heartbeat(lease.primary(), false, {}, {wanted});
    ASSERT_EQ(resp.extended_leases_size(), 1);
    EXPECT_EQ(resp.lease_ms(), kLeaseMs);
  }
  // Two lease periods later the lease still stands: no new grant happened.
  proto::GetWriteLeaseResponse again;
  ASSERT_OK(GetWriteLease("/f", 0, &again));
  EXPECT_EQ(again.version(), lease.version());
  EXPECT_EQ(fake_.grants(), 1);
}

TEST_F(ChunkManagerTest, UnknownOrDeadServerMustSendAFullReport) {
  EXPECT_TRUE(Heartbeat("new:1", false).reregister());
  EXPECT_FALSE(Heartbeat("new:1", true).reregister());
  EXPECT_FALSE(Heartbeat("new:1", false).reregister());
}

TEST_F(ChunkManagerTest, OrphanedAndStaleReplicasAreGarbage) {
  proto::GetWriteLeaseResponse lease;
  ASSERT_OK(GetWriteLease("/f", 0, &lease));
  proto::ChunkReport live, stale, orphan;
  live.set_handle(lease.handle());
  live.set_version(lease.version());
  stale.set_handle(lease.handle());
  stale.set_version(lease.version() - 1);
  orphan.set_handle(999);
  orphan.set_version(1);
  proto::HeartbeatResponse resp = Heartbeat(lease.replicas(0), true, {live, orphan});
  ASSERT_EQ(resp.delete_chunks_size(), 1);
  EXPECT_EQ(resp.delete_chunks(0).handle(), 999u);
  EXPECT_EQ(resp.delete_chunks(0).version(), 1u);  // only while still at that version
  resp = Heartbeat("cs4:1", true, {stale});
  ASSERT_EQ(resp.delete_chunks_size(), 1);
  EXPECT_EQ(resp.delete_chunks(0).handle(), lease.handle());
  EXPECT_EQ(resp.delete_chunks(0).version(), lease.version() - 1);

  // Once the file is purged, its chunk is an orphan everywhere.
  ASSERT_OK(ns_->Delete("/f", false));
  resp = Heartbeat(lease.replicas(0), true, {live});
  EXPECT_EQ(resp.delete_chunks_size(), 0);  // in the trash: still referenced
  auto expired = ns_->ExpiredTrash(-1'000'000, 10);
  ASSERT_OK(expired);
  ASSERT_EQ(expired->size(), 1u);
  ASSERT_OK(ns_->Purge((*expired)[0]));
  resp = Heartbeat(lease.replicas(0), true, {live});
  ASSERT_EQ(resp.delete_chunks_size(), 1);
  EXPECT_EQ(resp.delete_chunks(0).handle(), lease.handle());
}

TEST_F(ChunkManagerTest, FullReportsAreAskedForPeriodically) {
  EXPECT_FALSE(Heartbeat("cs1:1", true).send_full_report());
  EXPECT_FALSE(Heartbeat("cs1:1", false).send_full_report());
  clock_.Advance(ChunkManagerOptions{}.full_report_interval_ms * 1000 + 1);
  EXPECT_TRUE(Heartbeat("cs1:1", false).send_full_report());
}

TEST_F(ChunkManagerTest, SnapshotSharesChunksUntilTheFirstWriteCopiesThem) {
  proto::GetWriteLeaseResponse lease;
  ASSERT_OK(GetWriteLease("/f", 0, &lease));
  ASSERT_OK(GetWriteLease("/f", 1, &lease));
  const uint64_t shared = lease.handle();
  Snapshotter snapshotter(ns_.get(), manager_.get(), log_.get());
  ASSERT_OK(snapshotter.Snapshot("/f", "/snap"));
  EXPECT_EQ(fake_.revokes(), 2);  // both chunks had live leases: taken back first

  auto handles = [&](const std::string& path) {
    proto::GetChunkLocationsResponse resp;
    EXPECT_OK(manager_->GetChunkLocations(path, 0, 0, &resp));
    std::vector<uint64_t> out;
    for (const auto& chunk : resp.chunks()) out.push_back(chunk.handle());
    return out;
  };
  EXPECT_EQ(handles("/f"), handles("/snap"));

  // Writing chunk 1 of the source copies it: the snapshot keeps the old chunk.
  proto::GetWriteLeaseResponse after;
  ASSERT_OK(GetWriteLease("/f", 1, &after));
  EXPECT_NE(after.handle(), shared);
  EXPECT_EQ(fake_.clones(), 3);  // one local copy per replica
  EXPECT_EQ(handles("/snap")[1], shared);
  EXPECT_EQ(handles("/f")[1], after.handle());
  EXPECT_EQ(handles("/f")[0], handles("/snap")[0]);  // chunk 0 is still shared
  // Writing the snapshot's chunk 1 now needs no copy: it is the only reference left.
  ASSERT_OK(GetWriteLease("/snap", 1, &after));
  EXPECT_EQ(after.handle(), shared);
  EXPECT_EQ(fake_.clones(), 3);

  // Deleting and purging the source leaves the snapshot's chunks referenced.
  ASSERT_OK(ns_->Delete("/f", false));
  auto expired = ns_->ExpiredTrash(-1'000'000, 10);
  ASSERT_OK(expired);
  ASSERT_OK(ns_->Purge((*expired)[0]));
  proto::ChunkReport report;
  report.set_handle(handles("/snap")[0]);
  report.set_version(lease.version());
  EXPECT_EQ(Heartbeat(lease.replicas(0), true, {report}).delete_chunks_size(), 0);
  EXPECT_EQ(handles("/snap").size(), 2u);
}

TEST_F(ChunkManagerTest, SnapshotOfChunksThatChangedMeanwhileIsRefused) {
  proto::GetWriteLeaseResponse lease;
  ASSERT_OK(GetWriteLease("/f", 0, &lease));
  // The chunk set the leader froze (none) is not the file's (one chunk): refused.
  ASSERT_CODE(ns_->Snapshot("/f", "/g", {}), StatusCode::kAborted);
  ASSERT_CODE(ns_->Stat("/g"), StatusCode::kNotFound);
  ASSERT_OK(ns_->Snapshot("/f", "/g", {lease.handle()}));
}

TEST_F(ChunkManagerTest, SnapshotErrors) {
  Snapshotter snapshotter(ns_.get(), manager_.get(), log_.get());
  ASSERT_CODE(snapshotter.Snapshot("/missing", "/x"), StatusCode::kNotFound);
  ASSERT_CODE(snapshotter.Snapshot("/f", "/f"), StatusCode::kInvalidArgument);
  ASSERT_OK(ns_->Mkdir("/d", false));
  ASSERT_CODE(snapshotter.Snapshot("/d", "/d/inside"), StatusCode::kInvalidArgument);
  ASSERT_CODE(snapshotter.Snapshot("/f", "/d"), StatusCode::kAlreadyExists);
  ASSERT_CODE(snapshotter.Snapshot("/f", "/nodir/x"), StatusCode::kNotFound);
  // A lease that cannot be taken back (primary down) makes the snapshot wait.
  proto::GetWriteLeaseResponse lease;
  ASSERT_OK(GetWriteLease("/f", 0, &lease));
  fake_.SetDown(lease.primary(), true);
  ASSERT_CODE(snapshotter.Snapshot("/f", "/g"), StatusCode::kUnavailable);
  ASSERT_CODE(ns_->Stat("/g"), StatusCode::kNotFound);
  AdvanceWithHeartbeats(2 * kLeaseMs, lease.primary());
  ASSERT_OK(snapshotter.Snapshot("/f", "/g"));
}

TEST_F(ChunkManagerTest, LostReplicasAreCopiedFewestFirst) {
  proto::GetWriteLeaseResponse lease;
  ASSERT_OK(GetWriteLease("/f", 0, &lease));
  // While the lease is in force the chunk is being written: left alone.
  EXPECT_EQ(manager_->ReplicateOnce(8), 0u);
  const std::string lost = lease.replicas(1);
  fake_.SetDown(lost, true);
  AdvanceWithHeartbeats(kHeartbeatTimeoutMs + 500, lost);  // dead, and the lease is over
  ASSERT_EQ(manager_->ReplicateOnce(8), 1u);
  EXPECT_EQ(fake_.copies(), 1);
  proto::GetChunkLocationsResponse resp;
  ASSERT_OK(manager_->GetChunkLocations("/f", 0, 0, &resp));
  ASSERT_EQ(resp.chunks(0).replicas_size(), 3);
  for (const std::string& address : resp.chunks(0).replicas()) EXPECT_NE(address, lost);
  EXPECT_EQ(manager_->ReplicateOnce(8), 0u);  // whole again: nothing to do
}

TEST_F(ChunkManagerTest, AReplicaThatMayHaveTakenTheVersionIsLeftStale) {
  proto::GetWriteLeaseResponse lease;
  ASSERT_OK(GetWriteLease("/f", 0, &lease));
  // The next grant bumps the version; one replica applies it but its answer times out.
  const std::string doubtful = lease.replicas(2);
  fake_.SetSlow(doubtful);
  manager_->ReportWriteFailure(lease.handle(), lease.version(), {});
  proto::GetWriteLeaseResponse next;
  ASSERT_OK(GetWriteLease("/f", 0, &next));
  // Bumped twice: past the version the doubtful replica may hold.
  EXPECT_EQ(next.version(), lease.version() + 2);
  EXPECT_EQ(fake_.version(doubtful, lease.handle()), lease.version() + 1);
  for (const std::string& address : next.replicas()) EXPECT_NE(address, doubtful);
  // Its report of that version marks it stale, never up to date.
  proto::ChunkReport report;
  report.set_handle(lease.handle());
  report.set_version(lease.version() + 1);
  EXPECT_EQ(Heartbeat(doubtful, false, {report}).delete_chunks_size(), 1);
}

TEST_F(ChunkManagerTest, HandlesAreNeverReusedAfterARestart) {
  proto::GetWriteLeaseResponse first;
  ASSERT_OK(GetWriteLease("/f", 0, &first));
  // A new master incarnation hands out handles past everything the old one reserved.
  manager_ = std::make_unique<ChunkManager>(ChunkManagerOptions{kLeaseMs, 1000}, log_.get(),
                                            registry_.get(), &fake_, &clock_);
  proto::GetWriteLeaseResponse second;
  ASSERT_OK(GetWriteLease("/f", 1, &second));
  EXPECT_GE(second.handle(), first.handle() + 1024);
}

TEST_F(ChunkManagerTest, NoLiveServerIsUnavailable) {
  clock_.Advance((kHeartbeatTimeoutMs + 1) * 1000);
  for (const std::string& dead : registry_->ExpireSilent()) manager_->ServerDead(dead);
  proto::GetWriteLeaseResponse lease;
  ASSERT_CODE(GetWriteLease("/f", 0, &lease), StatusCode::kUnavailable);
  ASSERT_CODE(GetWriteLease("/missing", 0, &lease), StatusCode::kNotFound);
}

}  // namespace
}  // namespace gfs::master

namespace gfs::master {
namespace {

// A full report the server built just before a chunk was created on it reaches the
// master after the creation: it must not make the master forget that replica, or the
// next version change leaves the replica behind and it is deleted as stale.
TEST_F(ChunkManagerTest, AFullReportBuiltBeforeACreationKeepsTheNewReplica) {
  proto::GetWriteLeaseResponse lease;
  ASSERT_OK(GetWriteLease("/f", 0, &lease));
  ASSERT_EQ(lease.replicas_size(), 3);
  const std::string late = lease.replicas(1);
  Heartbeat(late, /*full=*/true, {});  // built before the chunk existed there

  proto::GetChunkLocationsResponse locations;
  ASSERT_OK(manager_->GetChunkLocations("/f", 0, 0, &locations));
  ASSERT_EQ(locations.chunks_size(), 1);
  EXPECT_EQ(locations.chunks(0).replicas_size(), 3);

  // A failure elsewhere moves the chunk to a new version: `late` must take it too.
  const std::string broken = lease.replicas(2);
  fake_.SetDown(broken, true);
  manager_->ReportWriteFailure(lease.handle(), lease.version(), {broken});
  proto::GetWriteLeaseResponse fresh;
  ASSERT_OK(GetWriteLease("/f", 0, &fresh));
  EXPECT_EQ(fake_.version(late, lease.handle()), fresh.version());
  proto::ChunkReport report;
  report.set_handle(lease.handle());
  report.set_version(fake_.version(late, lease.handle()));
  EXPECT_EQ(Heartbeat(late, false, {report}).delete_chunks_size(), 0);

  // A replica really gone shows in later full reports, once the creation is old.
  AdvanceWithHeartbeats(20000, broken);
  Heartbeat(late, /*full=*/true, {});
  locations.Clear();
  ASSERT_OK(manager_->GetChunkLocations("/f", 0, 0, &locations));
  ASSERT_EQ(locations.chunks_size(), 1);
  for (const std::string& address : locations.chunks(0).replicas()) EXPECT_NE(address, late);
}

// Writers that ask for the lease of a chunk nobody has yet race to create it; the
// losers then ask for the winner's chunk, possibly before the winner recorded where it
// lives. No replica may be left behind at an old version by such a race.
TEST_F(ChunkManagerTest, RacingFirstWritersLeaveNoReplicaBehind) {
  constexpr int kChunks = 12;
  constexpr int kWriters = 6;
  for (int index = 0; index < kChunks; ++index) {
    std::vector<std::thread> writers;
    std::atomic<int> failures{0};
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back([&] {
        proto::GetWriteLeaseResponse lease;
        if (!GetWriteLease("/f", index, &lease).ok()) ++failures;
      });
    }
    for (std::thread& t : writers) t.join();
    EXPECT_EQ(failures.load(), 0) << "chunk " << index;
  }
  proto::GetChunkLocationsResponse locations;
  ASSERT_OK(manager_->GetChunkLocations("/f", 0, kChunks, &locations));
  ASSERT_EQ(locations.chunks_size(), kChunks);
  for (const proto::ChunkLocation& chunk : locations.chunks()) {
    EXPECT_EQ(chunk.replicas_size(), 3) << "chunk " << chunk.index();
    for (const std::string& address : servers_) {
      const uint64_t version = fake_.version(address, chunk.handle());
      if (version != 0) {
        EXPECT_EQ(version, chunk.version())
            << "chunk " << chunk.index() << " left behind on " << address;
      }
    }
  }
}

}  // namespace
}  // namespace gfs::master
