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
    std::unique_ptr<Stub>& stub = stubs_[address];
    if (stub == nullptr) stub = Service::NewStub(NewChannel(address));
    return stub.get();
  }

 private:
  Mutex mu_;
  std::map<std::string, std::unique_ptr<Stub>> stubs_ GUARDED_BY(mu_);
};

}  // namespace gfs
