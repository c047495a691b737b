#include "chunkserver/mutation_order.h"

namespace gfs::chunkserver {

Status MutationOrder::WaitTurn(uint64_t handle, uint64_t version, uint64_t serial,
                               std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  MutexLock lock(&mu_);
  while (true) {
    Sequence& seq = sequences_[handle];
    if (version > seq.version) {
      // The first mutation under a new lease: its count starts over.
      seq.version = version;
      seq.next_serial = 1;
    }
    if (version < seq.version) {
      return Status::FailedPrecondition("mutation at version " + std::to_string(version) +
                                        " is older than the chunk's version " +
                                        std::to_string(seq.version));
    }
    if (serial < seq.next_serial) {
      return Status::FailedPrecondition("mutation serial " + std::to_string(serial) +
                                        " was already applied");
    }
    if (serial == seq.next_serial) return Status::OK();
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      return Status::Aborted("mutation serial " + std::to_string(serial) + " waited " +
                             std::to_string(timeout.count()) + " ms for serial " +
                             std::to_string(seq.next_serial) + ", which never arrived");
    }
    cv_.WaitFor(deadline - now);
  }
}

void MutationOrder::Done(uint64_t handle, uint64_t version, uint64_t serial) {
  MutexLock lock(&mu_);
  Sequence& seq = sequences_[handle];
  if (seq.version == version && seq.next_serial == serial) ++seq.next_serial;
  cv_.SignalAll();
}

void MutationOrder::Forget(uint64_t handle) {
  MutexLock lock(&mu_);
  sequences_.erase(handle);
  cv_.SignalAll();
}

}  // namespace gfs::chunkserver
