#include "client/read_ahead_file_reader.h"

#include <algorithm>
#include <cstring>
#include <random>

#include "client/read_chunk_call.h"
#include "common/grpc_status.h"

namespace gfs::client {
namespace {

using Clock = std::chrono::steady_clock;

ChunkLocation FromProto(const proto::ChunkLocation& in) {
  ChunkLocation out;
  out.index = in.index();
  out.handle = in.handle();
  out.version = in.version();
  out.replicas.assign(in.replicas().begin(), in.replicas().end());
  out.primary = in.primary();
  return out;
}

}  // namespace

Result<std::unique_ptr<ReadAheadFileReader>> ReadAheadFileReader::Open(
    const std::string& path, std::shared_ptr<MasterChannel> master,
    std::shared_ptr<ChunkServerPool> chunkservers, const ClientOptions& options) {
  proto::GetChunkLocationsRequest req;
  req.set_path(path);
  req.set_first_index(0);
  req.set_count(kLocationBatch);
  proto::GetChunkLocationsResponse resp;
  GFS_RETURN_IF_ERROR(
      master->Call("open " + path, [&](MasterChannel::Stub* stub, grpc::ClientContext* ctx) {
        resp.Clear();
        return stub->GetChunkLocations(ctx, req, &resp);
      }));
  if (resp.info().type() == proto::FILE_TYPE_DIRECTORY) {
    return Status::FailedPrecondition("open " + path + ": is a directory");
  }
  if (resp.info().size() > 0 && resp.info().chunk_size() == 0) {
    return Status::Internal("open " + path + ": the master gave chunk size 0");
  }
  std::unique_ptr<ReadAheadFileReader> reader(
      new ReadAheadFileReader(path, resp.info().size(), resp.info().chunk_size(), std::move(master),
                              std::move(chunkservers), options));
  {
    MutexLock lock(&reader->mu_);
    reader->StoreLocations(0, kLocationBatch, resp);
  }
  return reader;
}

ReadAheadFileReader::ReadAheadFileReader(std::string path, uint64_t size, uint64_t chunk_size,
                                         std::shared_ptr<MasterChannel> master,
                                         std::shared_ptr<ChunkServerPool> chunkservers,
                                         const ClientOptions& options)
    : path_(std::move(path)),
      size_(size),
      chunk_size_(chunk_size),
      master_(std::move(master)),
      chunkservers_(std::move(chunkservers)),
      options_(options),
      parallel_(static_cast<size_t>(std::max(options.parallel_chunks, 1))),
      rotation_(std::random_device{}()),
      pool_(options.parallel_chunks) {}

ReadAheadFileReader::~ReadAheadFileReader() { pool_.Shutdown(); }

uint64_t ReadAheadFileReader::PieceStart(uint64_t offset) const {
  const uint64_t chunk_start = offset / chunk_size_ * chunk_size_;
  return chunk_start + (offset - chunk_start) / kMaxPieceBytes * kMaxPieceBytes;
}

uint64_t ReadAheadFileReader::PieceEnd(uint64_t offset) const {
  const uint64_t chunk_end = (offset / chunk_size_ + 1) * chunk_size_;
  return std::min({PieceStart(offset) + kMaxPieceBytes, chunk_end, size_});
}

Result<size_t> ReadAheadFileReader::Read(char* buf, size_t n) {
  if (position_ >= size_ || n == 0) return size_t{0};
  const uint64_t current = PieceStart(position_);
  MutexLock lock(&mu_);
  // Keep `parallel_` pieces in flight from the current one on.
  uint64_t offset = current;
  for (size_t k = 0; k < parallel_ && offset < size_; ++k, offset = PieceEnd(offset)) {
    if (window_.count(offset) > 0) continue;
    auto piece = std::make_shared<Prefetch>();
    piece->offset = offset;
    piece->length = static_cast<size_t>(PieceEnd(offset) - offset);
    window_[offset] = piece;
    const bool queued = pool_.Submit([this, piece] {
      Segments segments;
      const Status s = ReadPiece(piece->offset, piece->length, &segments);
      MutexLock lock(&mu_);
      piece->segments = std::move(segments);
      piece->status = s;
      piece->done = true;
      cv_.SignalAll();
    });
    if (!queued) {  // the pool's queue is unbounded: only after shutdown
      piece->status = Status::Aborted("read " + path_ + ": the reader is closing");
      piece->done = true;
    }
  }
  // Each piece gives up by itself after data_timeout (ReadPiece), so this wait ends.
  const std::shared_ptr<Prefetch> piece = window_[current];
  while (!piece->done) cv_.WaitFor(std::chrono::milliseconds(500));
  if (!piece->status.ok()) {
    window_.erase(current);  // a later Read tries again
    return piece->status;
  }
  const uint64_t skip = position_ - current;
  const size_t copied = static_cast<size_t>(std::min<uint64_t>(n, piece->length - skip));
  GFS_RETURN_IF_ERROR(CopyOut(&piece->segments, static_cast<size_t>(skip), copied, buf));
  position_ += copied;
  if (position_ >= current + piece->length) window_.erase(current);
  return copied;
}

Result<size_t> ReadAheadFileReader::ReadAt(uint64_t offset, char* buf, size_t n) {
  if (offset >= size_ || n == 0) return size_t{0};
  n = static_cast<size_t>(std::min<uint64_t>(n, size_ - offset));
  std::vector<std::pair<uint64_t, size_t>> pieces;  // (offset, length)
  for (uint64_t o = offset; o < offset + n; o = PieceEnd(o)) {
    pieces.emplace_back(o, static_cast<size_t>(std::min<uint64_t>(PieceEnd(o), offset + n) - o));
  }
  if (pieces.size() == 1) {
    Segments segments;
    GFS_RETURN_IF_ERROR(ReadPiece(offset, n, &segments));
    GFS_RETURN_IF_ERROR(CopyOut(&segments, 0, n, buf));
    return n;
  }
  // Pieces go to the pool, at most parallel_ at once; after a failure the rest give up
  // without reading. Every piece writes into `buf`, so all must end before returning.
  struct Job {
    std::atomic<bool> failed{false};
    size_t remaining = 0;
    std::vector<Status> statuses;
  };
  auto job = std::make_shared<Job>();
  job->remaining = pieces.size();
  job->statuses.resize(pieces.size());
  for (size_t i = 0; i < pieces.size(); ++i) {
    char* out = buf + (pieces[i].first - offset);
    const bool queued = pool_.Submit([this, job, i, piece = pieces[i], out] {
      Segments segments;
      Status s = job->failed ? Status::Aborted("an earlier piece failed")
                             : ReadPiece(piece.first, piece.second, &segments);
      if (s.ok()) s = CopyOut(&segments, 0, piece.second, out);
      if (!s.ok()) job->failed = true;
      MutexLock lock(&mu_);
      job->statuses[i] = std::move(s);
      --job->remaining;
      cv_.SignalAll();
    });
    if (!queued) {  // the pool's queue is unbounded: only after shutdown
      job->failed = true;
      MutexLock lock(&mu_);
      job->statuses[i] = Status::Internal("read " + path_ + ": the reader is closing");
      --job->remaining;
    }
  }
  MutexLock lock(&mu_);
  while (job->remaining > 0) cv_.WaitFor(std::chrono::milliseconds(500));
  for (const Status& s : job->statuses) {
    if (!s.ok() && s.code() != StatusCode::kAborted) return s;
  }
  for (const Status& s : job->statuses) GFS_RETURN_IF_ERROR(s);
  return n;
}

Status ReadAheadFileReader::CopyOut(Segments* segments, size_t skip, size_t n, char* out) {
  for (Segment& segment : *segments) {
    if (n == 0) break;
    if (skip >= segment.size) {
      skip -= segment.size;
      continue;
    }
    const size_t take = std::min(n, segment.size - skip);
    if (segment.size > 0 && segment.reply.Length() == 0) {
      memset(out, 0, take);
    } else {
      GFS_RETURN_IF_ERROR(CopyFromByteBuffer(&segment.reply, segment.offset + skip, take, out));
    }
    out += take;
    n -= take;
    skip = 0;
  }
  if (n > 0) return Status::Internal("a piece holds fewer bytes than asked for");
  return Status::OK();
}

Status ReadAheadFileReader::ReadPiece(uint64_t offset, size_t n, Segments* out) {
  const Clock::time_point deadline = Clock::now() + options_.data_timeout;
  const uint64_t index = offset / chunk_size_;
  const uint64_t offset_in_chunk = offset % chunk_size_;
  const std::string what = "read " + path_ + " at offset " + std::to_string(offset);
  Status last;
  for (int round = 0; round < 2; ++round) {
    Result<std::optional<ChunkLocation>> chunk = Locate(index, /*refresh=*/round > 0);
    if (!chunk.ok()) return chunk.status().Prepend(what);
    if (!chunk->has_value()) {  // a hole
      out->push_back(Segment{grpc::ByteBuffer(), 0, n});
      return Status::OK();
    }
    const ChunkLocation& location = **chunk;
    if (location.replicas.empty()) {
      last = Status::Unavailable("no live replica of chunk " + std::to_string(index));
    }
    for (const std::string& replica : ReplicaOrder(location.replicas)) {
      const Status s = ReadFromReplica(replica, location, offset_in_chunk, n, out, deadline);
      if (s.ok()) return s;
      last = s.Prepend(replica);
    }
    if (Clock::now() >= deadline) break;
  }
  return Status(last.code(), what + ": " + last.message());
}

Status ReadAheadFileReader::ReadFromReplica(const std::string& replica, const ChunkLocation& chunk,
                                            uint64_t offset_in_chunk, size_t n, Segments* out,
                                            Clock::time_point deadline) {
  Segments read;
  size_t got = 0;
  while (got < n) {
    proto::ReadChunkRequest req;
    req.set_handle(chunk.handle);
    req.set_version(chunk.version);
    req.set_offset(offset_in_chunk + got);
    req.set_length(n - got);
    grpc::ClientContext ctx;
    const auto timeout = std::max<Clock::duration>(
        std::min<Clock::duration>(deadline - Clock::now(), options_.rpc_timeout),
        std::chrono::milliseconds(1));
    ctx.set_deadline(std::chrono::system_clock::now() + timeout);
    GFS_ASSIGN_OR_RETURN(ReceivedReadChunkReply reply,
                         CallReadChunk(chunkservers_->GetChannel(replica), &ctx, req));
    if (reply.data_bytes > n - got) {
      return Status::Internal("the replica returned " + std::to_string(reply.data_bytes) +
                              " bytes for a read of " + std::to_string(n - got));
    }
    const size_t bytes = reply.data_bytes;
    const uint64_t chunk_length = reply.chunk_length;
    if (bytes > 0) read.push_back(Segment{std::move(reply.buffer), reply.data_offset, bytes});
    got += bytes;
    // Short: the end of this replica's data (the rest reads as zeros), or the
    // chunkserver capped the reply (ask for the rest).
    if (bytes == 0 || offset_in_chunk + got >= chunk_length) break;
  }
  if (got < n) read.push_back(Segment{grpc::ByteBuffer(), 0, n - got});
  for (Segment& segment : read) out->push_back(std::move(segment));
  return Status::OK();
}

Result<std::optional<ChunkLocation>> ReadAheadFileReader::Locate(uint64_t index, bool refresh) {
  const uint64_t first = index / kLocationBatch * kLocationBatch;
  if (!refresh) {
    MutexLock lock(&mu_);
    if (fetched_batches_.count(first) > 0) {
      auto it = locations_.find(index);
      if (it == locations_.end()) return std::optional<ChunkLocation>();
      return std::optional<ChunkLocation>(it->second);
    }
  }
  proto::GetChunkLocationsRequest req;
  req.set_path(path_);
  req.set_first_index(first);
  req.set_count(kLocationBatch);
  proto::GetChunkLocationsResponse resp;
  GFS_RETURN_IF_ERROR(master_->Call("locate chunk " + std::to_string(index),
                                    [&](MasterChannel::Stub* stub, grpc::ClientContext* ctx) {
                                      resp.Clear();
                                      return stub->GetChunkLocations(ctx, req, &resp);
                                    }));
  MutexLock lock(&mu_);
  StoreLocations(first, kLocationBatch, resp);
  auto it = locations_.find(index);
  if (it == locations_.end()) return std::optional<ChunkLocation>();
  return std::optional<ChunkLocation>(it->second);
}

void ReadAheadFileReader::StoreLocations(uint64_t first, uint64_t count,
                                         const proto::GetChunkLocationsResponse& resp) {
  locations_.erase(locations_.lower_bound(first), locations_.lower_bound(first + count));
  for (const proto::ChunkLocation& chunk : resp.chunks()) {
    if (chunk.index() >= first && chunk.index() < first + count) {
      locations_[chunk.index()] = FromProto(chunk);
    }
  }
  fetched_batches_.insert(first);
}

std::vector<std::string> ReadAheadFileReader::ReplicaOrder(
    const std::vector<std::string>& replicas) {
  std::vector<std::string> local, remote;
  for (const std::string& replica : replicas) {
    (IsLocalAddress(replica) ? local : remote).push_back(replica);
  }
  // Rotate within each group, so that readers spread over equally close replicas (on a
  // one-host cluster every replica is local).
  const uint64_t turn = rotation_++;
  for (std::vector<std::string>* group : {&local, &remote}) {
    if (group->size() > 1) {
      std::rotate(group->begin(), group->begin() + (turn % group->size()), group->end());
    }
  }
  local.insert(local.end(), remote.begin(), remote.end());
  return local;
}

}  // namespace gfs::client
