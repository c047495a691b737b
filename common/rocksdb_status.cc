#include "common/rocksdb_status.h"

#include <rocksdb/status.h>

namespace gfs {

Status FromRocksDb(const rocksdb::Status& status, std::string_view context) {
  if (status.ok()) return Status::OK();
  StatusCode code = StatusCode::kInternal;
  if (status.IsNotFound()) {
    code = StatusCode::kNotFound;
  } else if (status.IsCorruption()) {
    code = StatusCode::kDataLoss;
  } else if (status.IsNoSpace()) {
    code = StatusCode::kResourceExhausted;
  } else if (status.IsBusy() || status.IsTryAgain() || status.IsTimedOut()) {
    code = StatusCode::kUnavailable;
  }
  std::string msg(context);
  msg += ": rocksdb: ";
  msg += status.ToString();
  return Status(code, std::move(msg));
}

}  // namespace gfs
