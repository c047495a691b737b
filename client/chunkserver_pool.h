// Stubs of ChunkServerService, one channel per chunkserver address, made on first use
// and kept for the life of the pool.
//
// Thread-safe.
#pragma once

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <string>

#include "common/stub_cache.h"
#include "protos/chunkserver.grpc.pb.h"

namespace gfs::client {

// The client's stubs to chunkservers, one per address.
using ChunkServerPool = StubCache<proto::ChunkServerService>;

bool IsLocalAddress(const std::string& address);

}  // namespace gfs::client
