// The one place where RocksDB errors become gfs::Status.
#pragma once

#include <string_view>

#include "gfs/status.h"

namespace rocksdb {
class Status;
}

namespace gfs {

// Maps a RocksDB status to a gfs::Status whose message starts with `context`.
// NotFound -> NotFound, Corruption -> DataLoss, NoSpace -> ResourceExhausted,
// Busy/TryAgain/TimedOut -> Unavailable, anything else -> Internal.
Status FromRocksDb(const rocksdb::Status& status, std::string_view context);

}  // namespace gfs
