// gfs::FileWriter over the data path: bytes are cut into mutations of at most
// ClientOptions::write_unit_bytes that never cross a chunk boundary; worker threads
// carry them out through a ChunkMutator, up to ClientOptions::parallel_chunks chunks at
// once, the mutations of one chunk in order by one worker at a time. Sync makes every
// chunk written since the last Sync durable through its primary, then raises the file's
// length at the master (ExtendFile). The chunk of the last, partly filled unit is
// flushed by that unit's own mutation; any other dirty chunk gets a flush-only one.
//
// Memory: at most parallel_chunks * write_unit_bytes bytes handed to workers, plus the
// unit being filled; Write blocks while that budget is used up.
//
// Not thread-safe (gfs::FileWriter's contract); the workers synchronise on mu_.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "client/chunk_mutator.h"
#include "client/master_channel.h"
#include "common/mutex.h"
#include "gfs/client.h"

namespace gfs::client {

class PipelinedFileWriter final : public gfs::FileWriter {
 public:
  // A writer of file `path`, whose chunks are `chunk_size` bytes, from `offset` on.
  // REQUIRES: chunk_size > 0.
  // `inode_id` identifies the file for the master, whatever its path becomes later.
  PipelinedFileWriter(std::string path, uint64_t inode_id, uint64_t chunk_size, uint64_t offset,
                      std::shared_ptr<MasterChannel> master, std::shared_ptr<ChunkMutator> mutator,
                      const ClientOptions& options);
  // Abandons what was not sent yet (no sync) and joins the workers once their current
  // mutation returns.
  ~PipelinedFileWriter() override;

  Status Write(std::string_view data) override;
  Status Sync() override;
  Status Close() override;
  uint64_t position() const override { return position_; }

 private:
  // One mutation: `data` at file offset `offset`; with `flush`, the chunk holding
  // `offset` is made durable too (and `data` may be empty).
  struct Unit {
    uint64_t offset = 0;
    std::string data;
    bool flush = false;
  };

  // Hands `unit` to the workers, waiting while the memory budget is used up. Returns
  // the first failure of any earlier unit.
  Status Enqueue(Unit unit);

  // Writes `unit` on the calling thread, when no worker was ever started; returns its
  // failure (kept as the writer's error) or an earlier one.
  Status WriteHere(const Unit& unit);

  // Waits until every unit handed out so far is done; returns the first failure.
  Status Drain();

  // A worker: takes the first unit of a chunk no other worker is on, runs it, repeats.
  void WorkerLoop();

  // Stops the workers (after dropping queued units if `abandon`) and joins them.
  void StopWorkers(bool abandon);

  // How long a wait for the workers may go without any of them finishing a unit: one
  // mutation's whole retry budget plus slack for its last RPCs.
  std::chrono::milliseconds ProgressTimeout() const;

  // Const after construction.
  const std::string path_;
  const uint64_t inode_id_;
  const uint64_t chunk_size_;
  const std::shared_ptr<MasterChannel> master_;
  const std::shared_ptr<ChunkMutator> mutator_;
  const ClientOptions options_;
  const size_t unit_bytes_;
  const size_t budget_bytes_;
  const size_t max_workers_;

  // Owned by the writer's (caller's) thread.
  uint64_t position_;
  Unit filling_;              // the unit being filled; data empty when none
  std::set<uint64_t> dirty_;  // chunks written since the last Sync
  uint64_t end_ = 0;          // end of the highest byte written
  uint64_t extended_ = 0;     // the file length last sent to ExtendFile
  bool closed_ = false;
  Status close_status_;

  // Set when the writer is destroyed without Close: running mutations stop retrying.
  std::atomic<bool> abandoned_{false};

  Mutex mu_;
  CondVar work_cv_{&mu_};  // a unit was queued or a chunk became free; stop_
  CondVar done_cv_{&mu_};  // a unit finished
  std::map<uint64_t, std::deque<Unit>> queued_ GUARDED_BY(mu_);  // by chunk index
  std::set<uint64_t> busy_chunks_ GUARDED_BY(mu_);               // a worker is on them
  size_t buffered_bytes_ GUARDED_BY(mu_) = 0;                    // queued + running data
  size_t outstanding_ GUARDED_BY(mu_) = 0;                       // queued + running units
  Status error_ GUARDED_BY(mu_);                                 // the first failure
  bool stop_ GUARDED_BY(mu_) = false;
  std::vector<std::thread> workers_;  // started and joined by the writer's thread
};

}  // namespace gfs::client
