#include "master/garbage_collector.h"

#include <glog/logging.h>

namespace gfs::master {

GarbageCollector::GarbageCollector(GarbageCollectorOptions options, Namespace* ns)
    : options_(options), ns_(ns) {
  task_ = std::make_unique<PeriodicTask>("trash-purge", options_.interval, [this] { RunOnce(); });
}

size_t GarbageCollector::RunOnce() {
  const int64_t retention_us =
      std::chrono::duration_cast<std::chrono::microseconds>(options_.trash_retention).count();
  Result<std::vector<proto::TrashRecord>> expired =
      ns_->ExpiredTrash(retention_us, options_.max_purges_per_round);
  if (!expired.ok()) {
    LOG(WARNING) << "garbage collection: " << expired.status().ToString();
    return 0;
  }
  size_t purged = 0;
  for (const proto::TrashRecord& trash : *expired) {
    Status s = ns_->Purge(trash);
    if (s.ok()) {
      ++purged;
      LOG(INFO) << "purged " << trash.path() << " (inode " << trash.inode_id() << ", deleted at "
                << trash.deleted_at_us() << " us)";
    } else if (!s.IsNotFound()) {  // NotFound: undeleted meanwhile
      LOG(WARNING) << "purging " << trash.path() << ": " << s.ToString();
    }
  }
  if (purged > 0) LOG(INFO) << "garbage collection purged " << purged << " deleted entries";
  return purged;
}

}  // namespace gfs::master
