// The master's operation log: the only way persistent master state changes.
//
// Callers Propose() a LogEntry (or ProposeAsync() it with a callback); the log applies
// it through the StateMachine, writes the entry and its effect in one atomic RocksDB
// write, and answers once that write is durable. Proposals are applied one after
// another and written together in one write (group commit).
//
// One thread of the log's own does the work, group after group: it takes every
// proposal queued, applies them, writes the group, fsyncs the WAL and answers the
// group's proposals; what is proposed meanwhile makes the next group. A proposer never
// leads a group itself, so an RPC handler can hand a proposal over and return
// (ProposeAsync), and the log finishes a whole group's calls without waking a thread
// per call. (An applier and a syncer thread, pipelined so that the next group was
// applied during an fsync, were measured on 2 cores: mkdir with 8 clients reached
// 0.50 of the ping ceiling against 0.53 with the one thread, over 14 alternating
// rounds; the handoff between them cost more than the overlap won.)
//
// What a caller sees is durable: Propose returns only after the fsync that covers its
// group, every earlier group being durable already (so an answer computed from an
// earlier entry is never given out before that entry is safe), and readers see the
// state as of the last fsync (durable_snapshot()), never a write that could still
// vanish in a crash. If an fsync fails, what reached the disk is unknown: the log
// refuses every later proposal with that error (reads go on from the last durable
// state) until the master is restarted and recovers from what the disk holds.
//
// Entries that fail validation or change nothing are not logged and take no log index;
// every logged entry gets the next (epoch, index). The last `tail_entries` entries are
// kept for followers to catch up from (ReadEntries); older ones are dropped in the same
// write that adds new ones. A checkpoint is a consistent copy of the whole database,
// log position included, that can be opened as a data dir.
//
// Thread-safe.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/env.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/mutex.h"
#include "gfs/status.h"
#include "protos/master.pb.h"
#include "protos/oplog.pb.h"

namespace gfs::master {

class MetaTxn;

// What applying one entry produced.
struct ApplyResult {
  Status status;
  // For entries that create or find an inode: its attributes.
  proto::FileInfo info;
};

// The deterministic state machine the log drives (DESIGN.md, "Master as a state
// machine"). Apply must read nothing but the entry and `txn`: no clock, no randomness,
// no soft state.
class StateMachine {
 public:
  virtual ~StateMachine() = default;
  // Applies `entry` through `txn`. On a non-OK status the log discards whatever this
  // call wrote. Writing nothing and returning OK means "no change" (nothing is logged).
  virtual ApplyResult Apply(const proto::LogEntry& entry, MetaTxn* txn) = 0;
  // Writes the initial state of an empty database (e.g. the root directory).
  virtual void Bootstrap(MetaTxn* txn) = 0;
};

struct OpLogOptions {
  // RocksDB directory; created if missing (with its parents).
  std::string data_dir;
  // How many of the newest entries are kept for catch-up.
  uint64_t tail_entries = 100000;
  // Upper bound on entries committed in one group.
  size_t max_group_entries = 1024;
  // Proposals waiting to be applied, at most; more are refused with Unavailable.
  size_t max_queued_proposals = 65536;
  // The RocksDB environment whose file system the log's files go through (the log
  // wraps it; threads and clocks are the default's); null for the default. Tests
  // inject disk faults with it.
  rocksdb::Env* env = nullptr;
};

class OpLog {
 public:
  // Opens (or creates and bootstraps) the log in `options.data_dir`. `state_machine`
  // must outlive the log.
  static Result<std::unique_ptr<OpLog>> Open(const OpLogOptions& options,
                                             StateMachine* state_machine);
  ~OpLog();
  OpLog(const OpLog&) = delete;
  OpLog& operator=(const OpLog&) = delete;

  // Applies `entry` (its epoch and index are assigned here) and returns once its effect
  // is durable, or the error that prevented it. A non-OK result from the state machine
  // is returned as is; a failed disk write is returned as the RocksDB error.
  // REQUIRES: not called from a ProposeAsync callback (it would wait for itself).
  ApplyResult Propose(const proto::LogEntry& entry) EXCLUDES(mu_);

  // Propose without waiting: `done` gets the result, on the log's thread (or on this
  // thread, when the log refuses the proposal at once: too many queued, or a failed
  // disk). `done` must be quick and must not call Propose.
  using Callback = std::function<void(ApplyResult)>;
  void ProposeAsync(const proto::LogEntry& entry, Callback done) EXCLUDES(mu_);

  // The position of the last durable entry, whose effect is in durable_snapshot().
  proto::LogPosition applied() const EXCLUDES(mu_);

  // The state as of the last fsync, for read-only queries
  // (MetaTxn(db(), durable_snapshot())).
  std::shared_ptr<const rocksdb::Snapshot> durable_snapshot() const EXCLUDES(mu_);

  // Up to `max_entries` logged entries starting at `from_index`. Returns OutOfRange if
  // `from_index` was already dropped from the tail (the reader needs a checkpoint), and
  // an empty vector if `from_index` is past the end.
  Result<std::vector<proto::LogEntry>> ReadEntries(uint64_t from_index, size_t max_entries);

  // The oldest index ReadEntries can still return.
  uint64_t first_retained_index() const EXCLUDES(mu_);

  // Writes a consistent copy of the database into `dir` (which must not exist); the
  // copy opens with Open() as a data dir, at the position it was taken.
  Status CreateCheckpoint(const std::string& dir);

  // The database, for read-only queries (with durable_snapshot()).
  rocksdb::DB* db() const { return db_.get(); }

  struct Stats {
    uint64_t proposals = 0;       // Propose calls
    uint64_t logged_entries = 0;  // entries that got an index
    uint64_t synced_writes = 0;   // WAL fsyncs (one per group that logged something)
  };
  Stats stats() const EXCLUDES(mu_);

 private:
  // A proposal on its way through the log.
  struct Pending {
    proto::LogEntry entry;
    Callback done;
    ApplyResult result;
  };
  OpLog(OpLogOptions options, StateMachine* state_machine, std::unique_ptr<rocksdb::Env> env,
        std::unique_ptr<rocksdb::DB> db, proto::LogPosition position);

  // The log's thread: commits and answers queued proposals group by group.
  void Loop() EXCLUDES(mu_);
  // Applies `group`, writes it and fsyncs the WAL; fills each proposal's result, sets
  // failure_ if the write or the fsync failed. Releases mu_ meanwhile.
  void CommitGroup(std::vector<Pending>* group) REQUIRES(mu_);

  // Applies `group` and writes it as one (not yet durable) write; fills each result.
  // Returns the position of the group's last entry (`start` if it logged nothing).
  proto::LogPosition ApplyGroup(std::vector<Pending>* group, const proto::LogPosition& start)
      REQUIRES(apply_mu_) EXCLUDES(mu_);

  // A RocksDB snapshot of the current state, released when the last holder drops it.
  std::shared_ptr<const rocksdb::Snapshot> TakeSnapshot();

  const OpLogOptions options_;
  StateMachine* const state_machine_;
  const std::unique_ptr<rocksdb::Env> env_;  // the database's; outlives it
  const std::unique_ptr<rocksdb::DB> db_;

  // Held while a group is applied and written, and by CreateCheckpoint.
  Mutex apply_mu_;  // taken before mu_

  mutable Mutex mu_;
  CondVar queued_cv_{&mu_};  // a proposal was queued, or stop
  std::deque<Pending> queue_ GUARDED_BY(mu_);
  bool stop_ GUARDED_BY(mu_) = false;
  // The last durable entry and the state as of it.
  proto::LogPosition position_ GUARDED_BY(mu_);
  std::shared_ptr<const rocksdb::Snapshot> durable_snapshot_ GUARDED_BY(mu_);
  // Set when a write or fsync failed: the log takes no more proposals.
  Status failure_ GUARDED_BY(mu_);
  Stats stats_ GUARDED_BY(mu_);

  std::thread thread_;
};

}  // namespace gfs::master
