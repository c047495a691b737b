#include "chunkserver/chunkserver_metrics.h"

namespace gfs::chunkserver {

MetricSet CollectChunkServerMetrics(ChunkStore* store, const PushBuffer& buffer,
                                    uint64_t push_buffer_capacity_bytes, const ServedCounts& served,
                                    double uptime_seconds) {
  MetricSet m;
  m.Gauge("gfs_chunkserver_uptime_seconds", "Seconds since this chunkserver started serving.",
          uptime_seconds);
  m.Gauge("gfs_chunkserver_chunks", "Replicas of chunks held.", store->List().size());
  m.Gauge("gfs_chunkserver_chunks_corrupt_at_start",
          "Replicas whose metadata was found damaged when the chunk store was opened.",
          store->corrupt_at_open().size());
  m.Gauge("gfs_chunkserver_used_bytes", "Bytes of chunk data held.", store->used_bytes());
  m.Gauge("gfs_chunkserver_capacity_bytes",
          "Size of the file system holding the chunks (0 if it cannot be read).",
          store->capacity_bytes());
  m.Gauge("gfs_chunkserver_push_buffer_used_bytes",
          "Bytes of pushed data reserved in the push buffer, waiting for their mutation.",
          buffer.used_bytes());
  m.Gauge("gfs_chunkserver_push_buffer_capacity_bytes",
          "Size of the push buffer; pushes past it are refused.", push_buffer_capacity_bytes);
  m.Gauge("gfs_chunkserver_push_buffer_entries", "Pushes held in the push buffer.",
          buffer.entries());
  m.Counter("gfs_chunkserver_reads_total",
            "Chunk reads served with data, to clients and to peers copying a replica.",
            served.reads);
  m.Counter("gfs_chunkserver_read_bytes_total", "Bytes returned by chunk reads.",
            served.read_bytes);
  m.Counter("gfs_chunkserver_mutations_total",
            "Writes, record appends and paddings applied to replicas here (as primary or "
            "secondary).",
            served.mutations);
  m.Counter("gfs_chunkserver_mutation_bytes_total", "Bytes written by mutations applied here.",
            served.mutation_bytes);
  return m;
}

}  // namespace gfs::chunkserver
