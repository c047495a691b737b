// Applies each chunk's mutations strictly in the primary's serial order.
//
// Mutations of (handle, version) carry serials 1, 2, 3, ... assigned by the primary.
// They may arrive in any order (the primary forwards them concurrently); a mutation
// waits until every smaller serial of the same (handle, version) is done. A newer
// version restarts the count at 1 (a new lease); an older version is refused.
//
// Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>

#include "common/mutex.h"
#include "gfs/status.h"

namespace gfs::chunkserver {

class MutationOrder {
 public:
  MutationOrder() : cv_(&mu_) {}

  // Blocks until `serial` is the next to apply for (handle, version), or `timeout`
  // passes (Aborted: an earlier mutation never arrived). FailedPrecondition if
  // `version` is older than the version already being ordered for `handle`, or the
  // serial was already done. On OK the caller applies the mutation and then calls Done.
  Status WaitTurn(uint64_t handle, uint64_t version, uint64_t serial,
                  std::chrono::milliseconds timeout) EXCLUDES(mu_);

  // Marks `serial` done (applied or failed), letting the next one go.
  // REQUIRES: WaitTurn(handle, version, serial) returned OK.
  void Done(uint64_t handle, uint64_t version, uint64_t serial) EXCLUDES(mu_);

  // Forgets `handle` (deleted chunk).
  void Forget(uint64_t handle) EXCLUDES(mu_);

 private:
  struct Sequence {
    uint64_t version = 0;
    uint64_t next_serial = 1;
  };

  Mutex mu_;
  CondVar cv_;
  std::map<uint64_t, Sequence> sequences_ GUARDED_BY(mu_);
};

}  // namespace gfs::chunkserver
