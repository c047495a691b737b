// Stubs of ChunkServerService, one channel per chunkserver address, made on first use
// and kept for the life of the pool.
//
// Thread-safe.
#pragma once

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <string>

#include "common/mutex.h"
#include "protos/chunkserver.grpc.pb.h"

namespace gfs::client {

class ChunkServerPool {
 public:
  using Stub = proto::ChunkServerService::Stub;

  ChunkServerPool() = default;
  ChunkServerPool(const ChunkServerPool&) = delete;
  ChunkServerPool& operator=(const ChunkServerPool&) = delete;

  // The stub for chunkserver `address` ("host:port"); owned by the pool, valid for its
  // lifetime. Does not dial: gRPC connects on the first call and reconnects quickly
  // after a chunkserver comes back.
  Stub* Get(const std::string& address);

 private:
  Mutex mu_;
  std::map<std::string, std::unique_ptr<Stub>> stubs_ GUARDED_BY(mu_);
};

// True if the host part of `address` ("host:port", "[v6]:port") names this machine:
// 127.0.0.1, localhost, ::1 or this host's name.
bool IsLocalAddress(const std::string& address);

}  // namespace gfs::client
