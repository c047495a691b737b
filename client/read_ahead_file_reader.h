// gfs::FileReader over the data path. A read is cut into pieces of at most 8 MiB that
// never cross a chunk boundary; each piece is read from one replica of its chunk: one on
// this host first, else in the master's order starting at a rotating index to spread
// load. On any error (DATA_LOSS included) the next replica is tried; when all failed,
// the chunk's locations are fetched again once. A large ReadAt reads up to
// ClientOptions::parallel_chunks pieces at once; sequential Read keeps that many
// pieces in flight ahead of the position.
//
// Not thread-safe (gfs::FileReader's contract); pieces are fetched by pool threads,
// which synchronise on mu_.
#pragma once

#include <grpcpp/support/byte_buffer.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "client/chunkserver_pool.h"
#include "client/master_channel.h"
#include "common/mutex.h"
#include "common/worker_pool.h"
#include "gfs/client.h"

namespace gfs::client {

class ReadAheadFileReader final : public gfs::FileReader {
 public:
  // Largest piece read from a replica in one RPC (the chunkserver's cap).
  static constexpr uint64_t kMaxPieceBytes = 8 << 20;
  // Chunk locations fetched from the master per GetChunkLocations call.
  static constexpr uint64_t kLocationBatch = 64;

  // Opens `path`: fetches its length and the first chunk locations. Returns NotFound if
  // it does not exist, FailedPrecondition if it is a directory.
  static Result<std::unique_ptr<ReadAheadFileReader>> Open(
      const std::string& path, std::shared_ptr<MasterChannel> master,
      std::shared_ptr<ChunkServerPool> chunkservers, const ClientOptions& options);

  // Joins the pool threads once their current RPC returns.
  ~ReadAheadFileReader() override;

  Result<size_t> Read(char* buf, size_t n) override;
  Result<size_t> ReadAt(uint64_t offset, char* buf, size_t n) override;
  uint64_t size() const override { return size_; }

 private:
  // Bytes of a piece: as a replica's reply left them in gRPC's buffers (copied only
  // when handed out), or zeros (a hole, or past the replica's data) when `reply` is
  // empty.
  struct Segment {
    grpc::ByteBuffer reply;
    size_t offset = 0;  // of the bytes in `reply`
    size_t size = 0;
  };
  using Segments = std::vector<Segment>;

  // A piece read ahead by Read.
  struct Prefetch {
    uint64_t offset = 0;
    size_t length = 0;
    Segments segments;  // the piece's bytes once done
    Status status;
    bool done = false;
  };

  ReadAheadFileReader(std::string path, uint64_t size, uint64_t chunk_size,
                      std::shared_ptr<MasterChannel> master,
                      std::shared_ptr<ChunkServerPool> chunkservers, const ClientOptions& options);

  // The end of the piece starting at or containing `offset`.
  uint64_t PieceEnd(uint64_t offset) const;
  // The start of the piece containing `offset`.
  uint64_t PieceStart(uint64_t offset) const;

  // Reads [offset, offset + n), within one piece, into `out` (appended). Holes and
  // bytes past the replica's data read as zeros. Returns "read PATH at offset N:
  // <reason>" after every replica failed twice (the second time with fresh locations).
  Status ReadPiece(uint64_t offset, size_t n, Segments* out);

  // Reads [offset_in_chunk, + n) of `chunk` from `replica` into `out` (appended, and
  // only when the whole range was read).
  Status ReadFromReplica(const std::string& replica, const ChunkLocation& chunk,
                         uint64_t offset_in_chunk, size_t n, Segments* out,
                         std::chrono::steady_clock::time_point deadline);

  // Copies `n` bytes of `segments`, from `skip` bytes in, to `out`.
  static Status CopyOut(Segments* segments, size_t skip, size_t n, char* out);

  // The location of chunk `index`, or nullopt for a hole; with `refresh`, asks the master
  // again.
  Result<std::optional<ChunkLocation>> Locate(uint64_t index, bool refresh);

  // Stores the answer of GetChunkLocations for [first, first + count).
  void StoreLocations(uint64_t first, uint64_t count, const proto::GetChunkLocationsResponse& resp)
      REQUIRES(mu_);

  // The order to try `replicas` in: this host's first, then the others from a rotating
  // start.
  std::vector<std::string> ReplicaOrder(const std::vector<std::string>& replicas);

  // Const after construction.
  const std::string path_;
  const uint64_t size_;
  const uint64_t chunk_size_;
  const std::shared_ptr<MasterChannel> master_;
  const std::shared_ptr<ChunkServerPool> chunkservers_;
  const ClientOptions options_;
  const size_t parallel_;

  std::atomic<uint64_t> rotation_;  // starts at random, so that readers spread

  // Owned by the caller's thread.
  uint64_t position_ = 0;

  Mutex mu_;
  CondVar cv_{&mu_};                                             // a piece finished
  std::map<uint64_t, ChunkLocation> locations_ GUARDED_BY(mu_);  // by index
  std::set<uint64_t> fetched_batches_ GUARDED_BY(mu_);           // first index of each batch
  std::map<uint64_t, std::shared_ptr<Prefetch>> window_ GUARDED_BY(mu_);  // by offset

  WorkerPool pool_;  // last: destroyed (joined) first, while the rest is still alive
};

}  // namespace gfs::client
