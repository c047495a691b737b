// Framed records on top of record append: exactly-once reading of at-least-once appends.
//
// Record append (Client::Append) is atomic and at-least-once: a retried append may leave
// a duplicate, and failed attempts may leave padding or torn bytes between records. The
// GFS paper left skipping those to every application; here it is done once:
// RecordWriter wraps each payload in a frame (magic, length, writer id, sequence number,
// CRC-32C) and RecordReader walks a file returning each acknowledged payload exactly
// once, skipping padding, torn regions and duplicates.
//
// Frame layout, little-endian: magic "RSFG" (0x47465352, 4 bytes) | payload length (4) |
// writer id (8) | sequence number (8) | CRC-32C of the 24 bytes before it and the payload
// (4) | payload.
//
// Not thread-safe: one writer or reader per thread. Many writers (in many processes) may
// append to one file at once; each has its own random writer id.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "gfs/client.h"
#include "gfs/status.h"

namespace gfs {

inline constexpr size_t kRecordFrameBytes = 28;

class RecordWriter {
 public:
  // Appends framed records to `path` (which must exist) through `client`, which must
  // outlive the writer.
  RecordWriter(Client* client, std::string path);

  // Appends one framed record; returns the file offset of its frame. The frame adds
  // kRecordFrameBytes to the payload, and the whole must fit Client::Append's limit.
  Result<uint64_t> Append(std::string_view payload);

  uint64_t writer_id() const { return writer_id_; }

 private:
  Client* const client_;
  const std::string path_;
  const uint64_t writer_id_;
  uint64_t next_sequence_ = 1;
};

// Encodes one frame (exposed for tests and for tools that build files by other means).
std::string EncodeRecordFrame(uint64_t writer_id, uint64_t sequence, std::string_view payload);

class RecordReader {
 public:
  // Reads `path` through `client`, which must outlive the reader.
  RecordReader(Client* client, std::string path);

  // The next record not seen before. Returns false at the end of the file. Fails with
  // the read's error if the file cannot be read.
  Result<bool> Next(std::string* payload);

  // Where the last returned record's frame starts in the file.
  uint64_t last_offset() const { return last_offset_; }

 private:
  // Reads the next piece of the file into buffer_. Returns false at the end.
  Result<bool> Fill();

  Client* const client_;
  const std::string path_;
  std::unique_ptr<FileReader> reader_;
  uint64_t file_size_ = 0;
  uint64_t chunk_size_ = 0;
  // Bytes of the current chunk, from buffer_offset_ in the file.
  std::string buffer_;
  uint64_t buffer_offset_ = 0;
  size_t pos_ = 0;  // scan position in buffer_
  uint64_t last_offset_ = 0;
  // Per writer, the highest sequence number returned: a writer appends one record at a
  // time, so anything at or below it is a duplicate of a retried append.
  std::map<uint64_t, uint64_t> seen_;
};

// Scans `data` from `*pos` for the next intact frame; on success sets `*payload`,
// `*writer_id`, `*sequence`, `*frame_start` and moves `*pos` past the frame. Bytes that
// are not an intact frame (padding, torn writes) are skipped. Returns false when no
// intact frame starts in the rest of `data`. Exposed for tests.
bool NextRecordFrame(std::string_view data, size_t* pos, std::string_view* payload,
                     uint64_t* writer_id, uint64_t* sequence, size_t* frame_start);

}  // namespace gfs
