#include "chunkserver/heartbeater.h"

#include <glog/logging.h>
#include <grpcpp/grpcpp.h>

#include <sstream>

#include "common/grpc_channel.h"
#include "common/grpc_status.h"
#include "protos/master.grpc.pb.h"

namespace gfs::chunkserver {

// The stubs of the master list; the next heartbeat goes to the next master after a
// failure. Used only by the heartbeat thread.
class Heartbeater::Transport {
 public:
  explicit Transport(const std::string& masters) {
    std::stringstream list(masters);
    std::string address;
    while (std::getline(list, address, ',')) {
      if (address.empty()) continue;
      addresses_.push_back(address);
      stubs_.push_back(proto::ChunkServerMasterService::NewStub(NewChannel(address)));
    }
  }

  Status Heartbeat(const proto::HeartbeatRequest& req, proto::HeartbeatResponse* resp,
                   std::chrono::milliseconds timeout) {
    if (stubs_.empty()) return Status::InvalidArgument("no master address");
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + timeout);
    Status s = FromGrpc(stubs_[current_]->Heartbeat(&ctx, req, resp));
    if (!s.ok()) {
      s = s.Prepend("heartbeat to master " + addresses_[current_]);
      current_ = (current_ + 1) % stubs_.size();
    }
    return s;
  }

 private:
  std::vector<std::string> addresses_;
  std::vector<std::unique_ptr<proto::ChunkServerMasterService::Stub>> stubs_;
  size_t current_ = 0;
};

Heartbeater::Heartbeater(HeartbeaterOptions options, ChunkStore* store, LeaseTable* leases,
                         Clock* clock)
    : options_(std::move(options)),
      store_(store),
      leases_(leases),
      clock_(clock),
      transport_(std::make_unique<Transport>(options_.masters)),
      cv_(&mu_) {
  for (uint64_t handle : store_->corrupt_at_open()) corrupt_.insert(handle);
}

Heartbeater::~Heartbeater() { Shutdown(); }

void Heartbeater::Start() {
  thread_ = std::thread([this] { Run(); });
}

void Heartbeater::Shutdown() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
    cv_.SignalAll();
  }
  if (thread_.joinable()) thread_.join();
}

void Heartbeater::TriggerNow() {
  MutexLock lock(&mu_);
  trigger_ = true;
  cv_.SignalAll();
}

void Heartbeater::ChunkChanged(uint64_t handle) {
  MutexLock lock(&mu_);
  changed_.insert(handle);
  removed_.erase(handle);
}

void Heartbeater::ChunkRemoved(uint64_t handle) {
  MutexLock lock(&mu_);
  changed_.erase(handle);
  removed_.insert(handle);
}

void Heartbeater::ReportCorrupt(uint64_t handle) {
  MutexLock lock(&mu_);
  corrupt_.insert(handle);
  trigger_ = true;
  cv_.SignalAll();
}

void Heartbeater::DeleteGarbage(const std::vector<proto::ChunkReport>& garbage) {
  size_t deleted = 0;
  for (const proto::ChunkReport& chunk : garbage) {
    Result<ChunkInfo> info = store_->Info(chunk.handle());
    // Only a replica still at the reported version: one updated since is not garbage.
    if (!info.ok() || info->version > chunk.version()) continue;
    // A lease on garbage is moot: no file will ever read what it would write.
    (void)leases_->Revoke(chunk.handle(), std::chrono::milliseconds(0));
    Status s = store_->Delete(chunk.handle());
    if (s.ok()) {
      ++deleted;
      ChunkRemoved(chunk.handle());
    } else {
      LOG(WARNING) << "[cs " << options_.advertise << "] deleting garbage: " << s.ToString();
    }
  }
  if (deleted > 0) {
    LOG(INFO) << "[cs " << options_.advertise << "] deleted " << deleted
              << " garbage replicas the master named";
  }
}

void Heartbeater::Run() {
  int failures = 0;
  while (true) {
    {
      MutexLock lock(&mu_);
      // Back off while the master does not answer, up to 10 intervals.
      const auto wait = options_.interval * std::min(1 << std::min(failures, 3), 10);
      const auto deadline = std::chrono::steady_clock::now() + wait;
      while (!stop_ && !trigger_) {
        const auto now = std::chrono::steady_clock::now();
        if (now >= deadline) break;
        cv_.WaitFor(deadline - now);
      }
      if (stop_) return;
      trigger_ = false;
    }
    Status s = SendOne();
    if (s.ok()) {
      if (failures > 0) LOG(INFO) << "[cs " << options_.advertise << "] master reachable again";
      failures = 0;
    } else {
      // Log the first failure and then every tenth, not every interval.
      if (failures % 10 == 0) LOG(WARNING) << "[cs " << options_.advertise << "] " << s.ToString();
      ++failures;
    }
  }
}

Status Heartbeater::SendOne() {
  proto::HeartbeatRequest req;
  req.set_address(options_.advertise);
  req.set_rack(options_.rack);
  req.set_incarnation(options_.incarnation);
  req.set_capacity_bytes(store_->capacity_bytes());
  req.set_used_bytes(store_->used_bytes());

  std::set<uint64_t> changed, removed, corrupt;
  bool full = false;
  uint64_t lease_ms = 0;
  {
    MutexLock lock(&mu_);
    full = need_full_report_;
    changed.swap(changed_);
    removed.swap(removed_);
    corrupt = corrupt_;
    lease_ms = lease_ms_;
  }
  req.set_full_report(full);
  if (full) {
    for (const ChunkInfo& info : store_->List()) {
      proto::ChunkReport* report = req.add_chunks();
      report->set_handle(info.handle);
      report->set_version(info.version);
      report->set_length(info.length);
    }
  } else {
    for (uint64_t handle : changed) {
      Result<ChunkInfo> info = store_->Info(handle);
      if (!info.ok()) continue;  // removed meanwhile; its removal is queued
      proto::ChunkReport* report = req.add_chunks();
      report->set_handle(info->handle);
      report->set_version(info->version);
      report->set_length(info->length);
    }
    for (uint64_t handle : removed) req.add_removed(handle);
  }
  for (uint64_t handle : corrupt) req.add_corrupt(handle);
  // Ask for extensions of leases that expire within two heartbeats or half a lease.
  const int64_t within_ms = std::max<int64_t>(3 * options_.interval.count(), lease_ms / 2);
  for (const auto& [handle, version] : leases_->ExtensionCandidates(within_ms)) {
    proto::ChunkReport* report = req.add_lease_extensions();
    report->set_handle(handle);
    report->set_version(version);
  }

  const int64_t sent_us = clock_->MonotonicMicros();
  proto::HeartbeatResponse resp;
  const auto timeout = std::max(options_.interval * 3, std::chrono::milliseconds(2000));
  Status s = transport_->Heartbeat(req, &resp, timeout);
  std::vector<proto::ChunkReport> garbage;
  {
    MutexLock lock(&mu_);
    if (!s.ok()) {
      // Report the changes again next time.
      changed_.insert(changed.begin(), changed.end());
      for (uint64_t handle : removed) {
        if (changed_.count(handle) == 0) removed_.insert(handle);
      }
      return s;
    }
    if (full && !resp.reregister()) {
      LOG(INFO) << "[cs " << options_.advertise << "] registered with the master ("
                << req.chunks_size() << " chunks reported)";
    }
    need_full_report_ = resp.reregister() || resp.send_full_report();
    // A master that asked us to re-register processed nothing: report them again.
    if (!resp.reregister()) {
      for (uint64_t handle : corrupt) corrupt_.erase(handle);
    }
    if (resp.lease_ms() > 0) lease_ms_ = resp.lease_ms();
    std::vector<uint64_t> extended(resp.extended_leases().begin(), resp.extended_leases().end());
    if (!extended.empty()) leases_->Extend(extended, sent_us, resp.lease_ms());
    garbage.assign(resp.delete_chunks().begin(), resp.delete_chunks().end());
  }
  DeleteGarbage(garbage);
  return Status::OK();
}

}  // namespace gfs::chunkserver
