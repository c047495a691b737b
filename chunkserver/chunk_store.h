// ChunkStore: the replicas one chunkserver holds, as files under its data dir.
//
// Each chunk is one file, <dir>/chunks/<handle as 16 hex digits>.chunk: a 64-byte
// header (magic, format, block size, handle, version, data offset, and a checksum of
// the header), then one CRC-32C per 64 KiB block of the data, then from the data offset
// (a page boundary past the CRCs of the largest chunk) the data itself. A block's CRC
// covers all 65536 bytes of the block, bytes past the end of the data counting as zeros,
// so that growing a chunk never changes what a CRC means. One file per chunk costs one
// inode, one descriptor and one fdatasync per Sync. A chunk's capacity is fixed when
// it is created, by the max_chunk_bytes then in force.
//
// The format before kept the CRCs in a .meta sidecar. Open migrates such chunks, one at
// a time (room for one extra copy of a chunk is needed), crash-safely; an error other
// than damage of a legacy chunk fails Open and leaves it as it was. The migration is
// one-way: a chunkserver of the older format reads migrated chunks as damaged.
//
// Crash consistency: a write updates the data, then the CRCs of the blocks it touched.
// A crash between the two leaves a block whose CRC does not match: reads of it return
// DataLoss (the replica is then repaired from another), never wrong bytes. Sync()
// makes both durable, and a new chunk's existence: Create syncs nothing, and a chunk a
// crash caught before its first Sync (no data, no complete header) is removed at Open.
// A version change is durable (fdatasync'd, with the chunk's directory entry) before
// it returns.
//
// Thread-safe. Operations on different chunks run in parallel; operations on one chunk
// are serialized.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gfs/status.h"

namespace gfs::chunkserver {

inline constexpr uint64_t kChecksumBlockBytes = 64 * 1024;

struct ChunkInfo {
  uint64_t handle = 0;
  uint64_t version = 0;
  // Bytes of data (the chunk file's size past its data offset).
  uint64_t length = 0;
};

// Bytes read from a chunk, in a buffer of their own that can be handed on (to a gRPC
// reply) without a copy.
struct ChunkBytes {
  std::unique_ptr<char[]> buffer;
  size_t offset = 0;  // where the bytes start in `buffer`
  size_t size = 0;
  std::string_view view() const { return {buffer.get() + offset, size}; }
};

struct ChunkStoreOptions {
  // The largest chunk accepted: writes past it are InvalidArgument.
  uint64_t max_chunk_bytes = 64ull << 20;
  // Write-behind: after this many bytes written to a chunk, its dirty pages are handed
  // to the disk (sync_file_range) and the pages handed over the time before, clean by
  // now, are dropped from the page cache. A stream of writes then reuses the same few
  // page-cache pages instead of growing the cache by every byte written; on a VM whose
  // host reclaims free guest memory, fresh pages cost a host fault each (measured: the
  // copy into the page cache took half of all CPU of a 1 GiB put), and the final
  // fdatasync finds little left to write. 0 turns it off. Durability is unchanged:
  // only Sync() makes data durable.
  uint64_t write_behind_bytes = 8ull << 20;
  // Chunks whose file is kept open at once, at most (least recently used ones are
  // closed, and reopened on their next use). 0: half the open-file limit.
  size_t max_open_chunks = 0;
};

class ChunkStore {
 public:
  // Opens the store in `dir` (created if missing) and loads every chunk's metadata.
  // A chunk whose header is unreadable or inconsistent is logged and skipped, not
  // fatal; it is listed by corrupt_at_open() so the master can be told.
  static Result<std::unique_ptr<ChunkStore>> Open(const std::string& dir,
                                                  const ChunkStoreOptions& options = {});
  virtual ~ChunkStore() = default;

  // Creates an empty chunk at `version`. Not durable by itself: the chunk's first Sync
  // (or SetVersion) makes the file and its directory entry durable, and a crash before
  // that loses the chunk (Open removes what is left of it). AlreadyExists if the handle
  // exists.
  virtual Status Create(uint64_t handle, uint64_t version) = 0;

  // Durably changes the version from `expected` to `new_version`. NotFound if absent;
  // FailedPrecondition (naming both versions) if the current version is not `expected`.
  // Setting the version it already has (new_version == current) is OK.
  virtual Status SetVersion(uint64_t handle, uint64_t expected, uint64_t new_version) = 0;

  // NotFound if absent.
  virtual Result<ChunkInfo> Info(uint64_t handle) = 0;
  virtual std::vector<ChunkInfo> List() = 0;
  // Handles skipped at Open because their metadata was damaged.
  virtual std::vector<uint64_t> corrupt_at_open() = 0;

  // Writes the concatenation of `parts` at `offset` of the chunk (extending it,
  // zero-filling any gap), without joining them first. Blocks partly overwritten are
  // verified first: DataLoss if their CRC does not match. NotFound if absent;
  // InvalidArgument if it would pass max_chunk_bytes.
  virtual Status WriteParts(uint64_t handle, uint64_t offset,
                            const std::vector<std::string_view>& parts) = 0;
  // WriteParts of one part.
  Status Write(uint64_t handle, uint64_t offset, std::string_view data) {
    return WriteParts(handle, offset, {data});
  }

  // Copies replica `src` to a new chunk `dst` at `version`, locally (copy-on-write of a
  // chunk shared by a snapshot), durably. NotFound if `src` is absent; AlreadyExists if
  // `dst` exists. The copy keeps src's checksums, so damage in src stays detectable.
  virtual Status Clone(uint64_t src, uint64_t dst, uint64_t version) = 0;

  // Extends the chunk with zeros to `length` bytes (record append pads a chunk this
  // way); a chunk already that long is left as it is. NotFound if absent;
  // InvalidArgument past max_chunk_bytes.
  virtual Status ExtendTo(uint64_t handle, uint64_t length) = 0;

  // Reads up to `length` bytes at `offset`, fewer at the end of the data (none past
  // it). Every block touched is verified: DataLoss naming the chunk and block on a
  // mismatch, and no bytes. NotFound if absent.
  virtual Result<ChunkBytes> ReadBytes(uint64_t handle, uint64_t offset, uint64_t length) = 0;
  // ReadBytes, copied into a string.
  Result<std::string> Read(uint64_t handle, uint64_t offset, uint64_t length);

  // Makes the chunk's data and checksums durable (one fdatasync of its file).
  virtual Status Sync(uint64_t handle) = 0;

  // Removes the chunk's file. NotFound if absent.
  virtual Status Delete(uint64_t handle) = 0;

  // Bytes of chunk data held, and the capacity of the file system holding them.
  virtual uint64_t used_bytes() = 0;
  virtual uint64_t capacity_bytes() = 0;
};

// Where the data starts in the chunk file at `path`: the data offset in its header, for
// tools and tests that look at a replica's bytes on disk. DataLoss, naming the path, if
// the header does not decode.
Result<uint64_t> ReadChunkDataOffset(const std::string& path);

}  // namespace gfs::chunkserver
