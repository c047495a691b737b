// What the master shows on /metrics and its status page (common/http_server.h): the op
// log's activity and position, the chunkservers it knows, and its chunks.
#pragma once

#include "common/metrics.h"
#include "master/chunk_manager.h"
#include "master/chunkserver_registry.h"
#include "master/op_log.h"

namespace gfs::master {

// The master's metrics now (names and meanings in the returned set's help texts).
// Takes each component's lock briefly; safe from any thread while they all live.
MetricSet CollectMasterMetrics(const OpLog& log, ChunkServerRegistry* registry,
                               ChunkManager* chunks, double uptime_seconds);

}  // namespace gfs::master
