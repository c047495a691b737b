#include "master/master_metrics.h"

namespace gfs::master {

MetricSet CollectMasterMetrics(const OpLog& log, ChunkServerRegistry* registry,
                               ChunkManager* chunks, double uptime_seconds) {
  MetricSet m;
  m.Gauge("gfs_master_uptime_seconds", "Seconds since this master started serving.",
          uptime_seconds);

  const OpLog::Stats log_stats = log.stats();
  const proto::LogPosition applied = log.applied();
  m.Counter("gfs_master_oplog_proposals_total",
            "Changes proposed to the op log, including those refused or changing nothing.",
            log_stats.proposals);
  m.Counter("gfs_master_oplog_logged_entries_total", "Op log entries logged (each got an index).",
            log_stats.logged_entries);
  m.Counter("gfs_master_oplog_synced_writes_total",
            "Fsync'd op log writes; under load one write commits a group of entries.",
            log_stats.synced_writes);
  m.Gauge("gfs_master_oplog_applied_epoch", "Epoch of the last op log entry applied.",
          applied.epoch());
  m.Gauge("gfs_master_oplog_applied_index", "Index of the last op log entry applied.",
          applied.index());

  uint64_t live = 0, dead = 0, capacity = 0, used = 0;
  for (const ChunkServerStatus& server : registry->List()) {
    if (!server.alive) {
      ++dead;
      continue;
    }
    ++live;
    capacity += server.capacity_bytes;
    used += server.used_bytes;
  }
  m.Gauge("gfs_master_chunkservers_live", "Chunkservers registered and sending heartbeats.", live);
  m.Gauge("gfs_master_chunkservers_dead",
          "Chunkservers known since this master started and now declared dead.", dead);
  m.Gauge("gfs_master_chunkservers_capacity_bytes",
          "Capacity of the file systems of the live chunkservers, as they last reported.",
          capacity);
  m.Gauge("gfs_master_chunkservers_used_bytes",
          "Chunk bytes held by the live chunkservers, as they last reported.", used);

  const ChunkManager::Stats chunk_stats = chunks->stats();
  m.Gauge("gfs_master_chunks", "Chunks with at least one replica known to the master.",
          chunk_stats.chunks_with_replicas);
  m.Gauge("gfs_master_chunk_replicas", "Replicas known to the master, on any chunkserver.",
          chunk_stats.replicas);
  m.Gauge("gfs_master_leases", "Chunk leases granted and still in force.", chunk_stats.leases);
  m.Gauge("gfs_master_chunks_under_replicated",
          "Chunks with fewer live up-to-date replicas than their file asks for, as of the "
          "last re-replication scan (chunks with a lease in force are not counted).",
          chunk_stats.under_replicated);
  m.Gauge("gfs_master_chunks_without_live_replica",
          "Chunks whose every known replica is gone or stale, as of the last re-replication "
          "scan: their data is unavailable.",
          chunk_stats.without_live_replica);
  return m;
}

}  // namespace gfs::master
