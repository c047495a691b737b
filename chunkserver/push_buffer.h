// PushBuffer: data pushed by clients, waiting for the mutation that uses it.
//
// An entry is created by Reserve() when a push starts (its full length counted against
// the capacity at once), filled by Append(), and usable by Get() once Complete(). The
// pieces of a push of kMinPieceBytes or more are kept as they arrived: the slices of
// gRPC's receive buffers, shared, not copied (a copy of every pushed byte cost about 7%
// of a chunkserver's CPU in a 1 GiB put). Smaller pieces are copied: a few bytes must
// not pin a whole receive buffer.
// Entries that no mutation used expire `ttl` after they were reserved; an incomplete
// push that was aborted is dropped at once. The buffer never holds more than
// `capacity_bytes` of pushed data: a Reserve past it is ResourceExhausted. (The memory
// behind it is a little more: a shared piece also pins the rest of the receive buffers
// it begins and ends in, of 64 KiB each as measured, so at most twice that per piece.)
//
// Thread-safe.
#pragma once

#include <grpcpp/support/slice.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/mutex.h"
#include "gfs/status.h"

namespace gfs::chunkserver {

// Bytes as a list of slices, in order.
using SliceList = std::vector<grpc::Slice>;

// The bytes of one complete push, in order.
struct PushedData {
  // Every piece but the first holds at least PushBuffer::kMinPieceBytes: smaller ones
  // are copied into one slice of their own, joined to the piece before.
  std::vector<SliceList> pieces;
  uint64_t size = 0;

  // Piece `i`'s bytes, as views of its slices (valid while this lives).
  std::vector<std::string_view> PieceViews(size_t i) const;
  // The whole push as one string (a copy).
  std::string Joined() const;
};

class PushBuffer {
 public:
  // Pieces smaller than this are copied and joined to the previous one, so that whoever
  // writes the pieces out does not make one small write per tiny piece.
  static constexpr size_t kMinPieceBytes = 64 << 10;

  // `clock` must outlive the buffer.
  PushBuffer(uint64_t capacity_bytes, std::chrono::milliseconds ttl, Clock* clock);

  // Starts an entry of `length` bytes. Drops expired entries first. AlreadyExists if
  // `data_id` is in use; ResourceExhausted (naming the sizes) if it does not fit.
  Status Reserve(uint64_t data_id, uint64_t length) EXCLUDES(mu_);
  // Adds bytes to a reserved, incomplete entry, taking over `piece`'s slices. NotFound
  // if there is none (expired); InvalidArgument if the bytes would pass the reserved
  // length.
  Status Append(uint64_t data_id, SliceList piece) EXCLUDES(mu_);
  // Marks the entry usable. InvalidArgument if fewer bytes than reserved arrived.
  Status Complete(uint64_t data_id) EXCLUDES(mu_);
  // Drops an entry, complete or not; no-op if absent.
  void Remove(uint64_t data_id) EXCLUDES(mu_);

  // The bytes of a complete entry. NotFound if absent, incomplete or expired.
  Result<std::shared_ptr<const PushedData>> Get(uint64_t data_id) EXCLUDES(mu_);

  // Drops entries older than the ttl; returns how many.
  size_t ExpireOld() EXCLUDES(mu_);

  uint64_t used_bytes() const EXCLUDES(mu_);
  size_t entries() const EXCLUDES(mu_);

 private:
  struct Entry {
    uint64_t reserved = 0;
    std::shared_ptr<PushedData> data;
    bool complete = false;
    int64_t created_us = 0;
  };
  size_t ExpireOldLocked() REQUIRES(mu_);

  const uint64_t capacity_bytes_;
  const std::chrono::milliseconds ttl_;
  Clock* const clock_;

  mutable Mutex mu_;
  std::map<uint64_t, Entry> entries_ GUARDED_BY(mu_);
  uint64_t used_bytes_ GUARDED_BY(mu_) = 0;  // sum of reserved lengths
};

}  // namespace gfs::chunkserver
