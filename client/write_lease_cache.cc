#include "client/write_lease_cache.h"

namespace gfs::client {

std::optional<WriteLease> WriteLeaseCache::Get(const std::string& path, uint64_t index) {
  MutexLock lock(&mu_);
  auto it = leases_.find(Key(path, index));
  if (it == leases_.end()) return std::nullopt;
  return it->second;
}

void WriteLeaseCache::Put(const std::string& path, uint64_t index, WriteLease lease) {
  MutexLock lock(&mu_);
  if (leases_.size() >= kMaxEntries) leases_.clear();
  leases_[Key(path, index)] = std::move(lease);
}

void WriteLeaseCache::Drop(const std::string& path, uint64_t index) {
  MutexLock lock(&mu_);
  leases_.erase(Key(path, index));
}

}  // namespace gfs::client
