#include "chunkserver/push_buffer.h"

#include <string>

namespace gfs::chunkserver {

std::vector<std::string_view> PushedData::PieceViews(size_t i) const {
  std::vector<std::string_view> views;
  views.reserve(pieces[i].size());
  for (const grpc::Slice& slice : pieces[i]) {
    views.emplace_back(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return views;
}

std::string PushedData::Joined() const {
  std::string all;
  all.reserve(size);
  for (size_t i = 0; i < pieces.size(); ++i) {
    for (std::string_view view : PieceViews(i)) all.append(view);
  }
  return all;
}

PushBuffer::PushBuffer(uint64_t capacity_bytes, std::chrono::milliseconds ttl, Clock* clock)
    : capacity_bytes_(capacity_bytes), ttl_(ttl), clock_(clock) {}

namespace {

std::string IdName(uint64_t data_id) { return "push data " + std::to_string(data_id); }

}  // namespace

Status PushBuffer::Reserve(uint64_t data_id, uint64_t length) {
  MutexLock lock(&mu_);
  // Expired entries may be what stands between this push and the capacity.
  ExpireOldLocked();
  if (entries_.count(data_id) != 0) {
    return Status::AlreadyExists(IdName(data_id) + " is already in the push buffer");
  }
  if (length > capacity_bytes_ || used_bytes_ > capacity_bytes_ - length) {
    return Status::ResourceExhausted(
        "push buffer full: " + IdName(data_id) + " needs " + std::to_string(length) + " bytes, " +
        std::to_string(used_bytes_) + " of " + std::to_string(capacity_bytes_) + " bytes in use");
  }
  Entry entry;
  entry.reserved = length;
  entry.data = std::make_shared<PushedData>();
  entry.created_us = clock_->MonotonicMicros();
  entries_.emplace(data_id, std::move(entry));
  used_bytes_ += length;
  return Status::OK();
}

Status PushBuffer::Append(uint64_t data_id, SliceList piece) {
  uint64_t piece_bytes = 0;
  for (const grpc::Slice& slice : piece) piece_bytes += slice.size();
  MutexLock lock(&mu_);
  auto it = entries_.find(data_id);
  const int64_t now = clock_->MonotonicMicros();
  // Only this entry's age is checked: a full sweep on every piece would make pushes
  // quadratic in the number of entries.
  if (it != entries_.end() && now - it->second.created_us >= ttl_.count() * 1000) {
    used_bytes_ -= it->second.reserved;
    entries_.erase(it);
    it = entries_.end();
  }
  if (it == entries_.end()) {
    return Status::NotFound(IdName(data_id) + " is not in the push buffer (expired?)");
  }
  Entry& entry = it->second;
  if (entry.complete) {
    return Status::FailedPrecondition(IdName(data_id) + " is already complete");
  }
  PushedData& data = *entry.data;
  if (piece_bytes > entry.reserved - data.size) {
    return Status::InvalidArgument(IdName(data_id) + ": " + std::to_string(piece_bytes) +
                                   " more bytes would pass the reserved " +
                                   std::to_string(entry.reserved) + " (have " +
                                   std::to_string(data.size) + ")");
  }
  if (piece_bytes == 0) return Status::OK();
  data.size += piece_bytes;
  if (piece_bytes >= kMinPieceBytes) {
    data.pieces.push_back(std::move(piece));
    return Status::OK();
  }
  std::string copy;
  copy.reserve(piece_bytes);
  for (const grpc::Slice& slice : piece) {
    copy.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  if (data.pieces.empty()) data.pieces.emplace_back();
  data.pieces.back().emplace_back(copy);
  return Status::OK();
}

Status PushBuffer::Complete(uint64_t data_id) {
  MutexLock lock(&mu_);
  auto it = entries_.find(data_id);
  if (it == entries_.end() ||
      clock_->MonotonicMicros() - it->second.created_us >= ttl_.count() * 1000) {
    return Status::NotFound(IdName(data_id) + " is not in the push buffer (expired?)");
  }
  Entry& entry = it->second;
  if (entry.data->size != entry.reserved) {
    return Status::InvalidArgument(IdName(data_id) + ": " + std::to_string(entry.data->size) +
                                   " of " + std::to_string(entry.reserved) + " bytes arrived");
  }
  entry.complete = true;
  return Status::OK();
}

void PushBuffer::Remove(uint64_t data_id) {
  MutexLock lock(&mu_);
  auto it = entries_.find(data_id);
  if (it == entries_.end()) return;
  used_bytes_ -= it->second.reserved;
  entries_.erase(it);
}

Result<std::shared_ptr<const PushedData>> PushBuffer::Get(uint64_t data_id) {
  MutexLock lock(&mu_);
  auto it = entries_.find(data_id);
  if (it == entries_.end() ||
      clock_->MonotonicMicros() - it->second.created_us >= ttl_.count() * 1000) {
    return Status::NotFound(IdName(data_id) + " is not in the push buffer (expired?)");
  }
  if (!it->second.complete) {
    return Status::NotFound(IdName(data_id) + " has not been completely pushed");
  }
  // Shared, not copied: the caller may keep using the bytes after the entry is removed.
  return std::shared_ptr<const PushedData>(it->second.data);
}

size_t PushBuffer::ExpireOld() {
  MutexLock lock(&mu_);
  return ExpireOldLocked();
}

size_t PushBuffer::ExpireOldLocked() {
  const int64_t now = clock_->MonotonicMicros();
  const int64_t ttl_us = ttl_.count() * 1000;
  size_t dropped = 0;
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (now - it->second.created_us >= ttl_us) {
      used_bytes_ -= it->second.reserved;
      it = entries_.erase(it);
      ++dropped;
    } else {
      ++it;
    }
  }
  return dropped;
}

uint64_t PushBuffer::used_bytes() const {
  MutexLock lock(&mu_);
  return used_bytes_;
}

size_t PushBuffer::entries() const {
  MutexLock lock(&mu_);
  return entries_.size();
}

}  // namespace gfs::chunkserver
