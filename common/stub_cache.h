// One gRPC stub per peer address, made on first use and kept for the cache's lifetime:
// how a process talks to many chunkservers (or masters) without dialing per call.
//
// Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "common/grpc_channel.h"
#include "common/mutex.h"

namespace gfs {

template <typename Service>
class StubCache {
 public:
  using Stub = typename Service::Stub;

  StubCache() = default;
  StubCache(const StubCache&) = delete;
  StubCache& operator=(const StubCache&) = delete;

  // The stub for `address` ("host:port"); owned by the cache. Does not dial: gRPC
  // connects on the first call and reconnects quickly after the peer comes back.
  Stub* Get(const std::string& address) EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    return Find(address).stub.get();
  }

  // The channel under Get(address)'s stub, for calls made without the generated stub
  // (e.g. a reply decoded straight from gRPC's buffers).
  std::shared_ptr<grpc::Channel> GetChannel(const std::string& address) EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    return Find(address).channel;
  }

 private:
  struct Peer {
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<Stub> stub;
  };

  Peer& Find(const std::string& address) REQUIRES(mu_) {
    Peer& peer = peers_[address];
    if (peer.stub == nullptr) {
      peer.channel = NewChannel(address);
      peer.stub = Service::NewStub(peer.channel);
    }
    return peer;
  }

  Mutex mu_;
  std::map<std::string, Peer> peers_ GUARDED_BY(mu_);
};

}  // namespace gfs
