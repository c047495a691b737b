// The chunkserver's link to the master: a heartbeat every interval carrying free and
// used space, a chunk report (full on first contact or when the master asks,
// incremental otherwise), replicas found corrupt, and requests to extend the leases of
// chunks still being written. The master's reply extends leases or asks for a full
// report.
//
// Thread-safe. Start() once; Shutdown() is idempotent and joins the thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "chunkserver/chunk_store.h"
#include "chunkserver/lease_table.h"
#include "common/clock.h"
#include "common/mutex.h"
#include "protos/master.pb.h"

namespace gfs::chunkserver {

struct HeartbeaterOptions {
  // Master address(es), comma-separated.
  std::string masters;
  // This server's identity at the master.
  std::string advertise;
  std::string rack = "default";
  std::chrono::milliseconds interval{1000};
  // This process's incarnation (HeartbeatRequest.incarnation).
  uint64_t incarnation = 0;
};

class Heartbeater {
 public:
  // `store`, `leases` and `clock` must outlive the heartbeater.
  Heartbeater(HeartbeaterOptions options, ChunkStore* store, LeaseTable* leases, Clock* clock);
  ~Heartbeater();

  void Start() EXCLUDES(mu_);
  void Shutdown() EXCLUDES(mu_);
  // Sends the next heartbeat now instead of at the end of the interval.
  void TriggerNow() EXCLUDES(mu_);

  // Queue changes for the next incremental report.
  void ChunkChanged(uint64_t handle) EXCLUDES(mu_);
  void ChunkRemoved(uint64_t handle) EXCLUDES(mu_);
  void ReportCorrupt(uint64_t handle) EXCLUDES(mu_);

 private:
  class Transport;
  void Run();
  // Sends one heartbeat; returns its status.
  Status SendOne() EXCLUDES(mu_);
  // Deletes the replicas the master named as garbage, each only while its version is
  // still at most the one named.
  void DeleteGarbage(const std::vector<proto::ChunkReport>& garbage) EXCLUDES(mu_);

  const HeartbeaterOptions options_;
  ChunkStore* const store_;
  LeaseTable* const leases_;
  Clock* const clock_;
  std::unique_ptr<Transport> transport_;  // const after construction

  mutable Mutex mu_;
  CondVar cv_;
  bool stop_ GUARDED_BY(mu_) = false;
  bool trigger_ GUARDED_BY(mu_) = false;
  bool need_full_report_ GUARDED_BY(mu_) = true;
  std::set<uint64_t> changed_ GUARDED_BY(mu_);
  std::set<uint64_t> removed_ GUARDED_BY(mu_);
  std::set<uint64_t> corrupt_ GUARDED_BY(mu_);
  uint64_t lease_ms_ GUARDED_BY(mu_) = 0;  // as the master last said; 0 until then
  std::thread thread_;
};

}  // namespace gfs::chunkserver
