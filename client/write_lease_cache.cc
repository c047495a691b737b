#include "client/write_lease_cache.h"

namespace gfs::client {

std::optional<WriteLease> WriteLeaseCache::Get(uint64_t inode_id, uint64_t index) {
  MutexLock lock(&mu_);
  auto it = leases_.find(Key(inode_id, index));
  if (it == leases_.end()) return std::nullopt;
  return it->second;
}

void WriteLeaseCache::Put(uint64_t inode_id, uint64_t index, WriteLease lease) {
  MutexLock lock(&mu_);
  if (leases_.size() >= kMaxEntries) leases_.clear();
  leases_[Key(inode_id, index)] = std::move(lease);
}

void WriteLeaseCache::Drop(uint64_t inode_id, uint64_t index) {
  MutexLock lock(&mu_);
  leases_.erase(Key(inode_id, index));
}

}  // namespace gfs::client
