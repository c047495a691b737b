// What a chunkserver shows on /metrics and its status page (common/http_server.h): the
// replicas it holds, its disk space and its push buffer.
#pragma once

#include <cstdint>

#include "chunkserver/chunk_store.h"
#include "chunkserver/push_buffer.h"
#include "common/metrics.h"

namespace gfs::chunkserver {

// What the chunkserver's RPC service has served since it started
// (ChunkServerServiceImpl::served()).
struct ServedCounts {
  // ReadChunk calls answered with data (to clients and to peers copying a replica), and
  // the bytes they returned.
  uint64_t reads = 0;
  uint64_t read_bytes = 0;
  // Mutations (writes, record appends, paddings) applied to a replica here, as primary
  // or secondary, and the bytes they wrote (paddings count none).
  uint64_t mutations = 0;
  uint64_t mutation_bytes = 0;
};

// The chunkserver's metrics now (names and meanings in the returned set's help texts).
// `push_buffer_capacity_bytes` is the buffer's configured size. Lists the store's
// chunks (a short lock per chunk); safe from any thread while `store` and `buffer` live.
MetricSet CollectChunkServerMetrics(ChunkStore* store, const PushBuffer& buffer,
                                    uint64_t push_buffer_capacity_bytes, const ServedCounts& served,
                                    double uptime_seconds);

}  // namespace gfs::chunkserver
