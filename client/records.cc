#include "gfs/records.h"

#include <cstring>
#include <random>

#include "common/crc32c.h"

namespace gfs {
namespace {

constexpr uint32_t kMagic = 0x47465352;  // "RSFG" in little-endian byte order

void Put32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}
void Put64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}
uint32_t Get32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}
uint64_t Get64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

uint64_t RandomWriterId() {
  std::random_device rd;
  uint64_t id = 0;
  while (id == 0) id = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  return id;
}

}  // namespace

std::string EncodeRecordFrame(uint64_t writer_id, uint64_t sequence, std::string_view payload) {
  std::string frame;
  frame.reserve(kRecordFrameBytes + payload.size());
  Put32(&frame, kMagic);
  Put32(&frame, static_cast<uint32_t>(payload.size()));
  Put64(&frame, writer_id);
  Put64(&frame, sequence);
  uint32_t crc = crc32c::Value(frame.data(), frame.size());
  crc = crc32c::Extend(crc, payload.data(), payload.size());
  Put32(&frame, crc);
  frame.append(payload);
  return frame;
}

bool NextRecordFrame(std::string_view data, size_t* pos, std::string_view* payload,
                     uint64_t* writer_id, uint64_t* sequence, size_t* frame_start) {
  const char first = static_cast<char>(kMagic & 0xff);
  while (*pos + kRecordFrameBytes <= data.size()) {
    // Padding is long runs of zeros: jump to the next byte that can start a frame.
    const void* hit = std::memchr(data.data() + *pos, first, data.size() - *pos);
    if (hit == nullptr) break;
    const size_t at = static_cast<const char*>(hit) - data.data();
    if (at + kRecordFrameBytes > data.size()) break;
    const char* p = data.data() + at;
    const uint32_t length = Get32(p + 4);
    if (Get32(p) == kMagic && length <= data.size() - at - kRecordFrameBytes) {
      uint32_t crc = crc32c::Value(p, 24);
      crc = crc32c::Extend(crc, p + kRecordFrameBytes, length);
      if (crc == Get32(p + 24)) {
        *payload = std::string_view(p + kRecordFrameBytes, length);
        *writer_id = Get64(p + 8);
        *sequence = Get64(p + 16);
        *frame_start = at;
        *pos = at + kRecordFrameBytes + length;
        return true;
      }
    }
    // Not an intact frame here (torn, or a stray byte): try the next position.
    *pos = at + 1;
  }
  *pos = data.size();
  return false;
}

RecordWriter::RecordWriter(Client* client, std::string path)
    : client_(client), path_(std::move(path)), writer_id_(RandomWriterId()) {}

Result<uint64_t> RecordWriter::Append(std::string_view payload) {
  // A failed append may still have landed: never reuse its sequence number, or the
  // reader would take the next record for a duplicate of it.
  const std::string frame = EncodeRecordFrame(writer_id_, next_sequence_++, payload);
  return client_->Append(path_, frame);
}

RecordReader::RecordReader(Client* client, std::string path)
    : client_(client), path_(std::move(path)) {}

Result<bool> RecordReader::Fill() {
  if (reader_ == nullptr) {
    GFS_ASSIGN_OR_RETURN(FileInfo info, client_->Stat(path_));
    GFS_ASSIGN_OR_RETURN(reader_, client_->Open(path_));
    file_size_ = reader_->size();
    chunk_size_ = info.chunk_size;
    buffer_offset_ = 0;
  } else {
    buffer_offset_ += buffer_.size();
  }
  if (buffer_offset_ >= file_size_ || chunk_size_ == 0) return false;
  // One chunk at a time: a record never spans chunks.
  const uint64_t n =
      std::min<uint64_t>(chunk_size_ - buffer_offset_ % chunk_size_, file_size_ - buffer_offset_);
  buffer_.resize(n);
  size_t got = 0;
  while (got < n) {
    GFS_ASSIGN_OR_RETURN(size_t r,
                         reader_->ReadAt(buffer_offset_ + got, buffer_.data() + got, n - got));
    if (r == 0) break;
    got += r;
  }
  buffer_.resize(got);
  pos_ = 0;
  return got > 0;
}

Result<bool> RecordReader::Next(std::string* payload) {
  while (true) {
    if (reader_ != nullptr) {
      std::string_view found;
      uint64_t writer = 0, sequence = 0;
      size_t start = 0;
      while (NextRecordFrame(buffer_, &pos_, &found, &writer, &sequence, &start)) {
        uint64_t& highest = seen_[writer];
        if (sequence <= highest) continue;  // a duplicate left by a retried append
        highest = sequence;
        payload->assign(found);
        last_offset_ = buffer_offset_ + start;
        return true;
      }
    }
    GFS_ASSIGN_OR_RETURN(bool more, Fill());
    if (!more) return false;
  }
}

}  // namespace gfs
