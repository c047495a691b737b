#include "master/op_log.h"

#include <glog/logging.h>
#include <rocksdb/utilities/checkpoint.h>

#include <filesystem>

#include "common/rocksdb_status.h"
#include "master/meta_keys.h"
#include "master/meta_txn.h"

namespace gfs::master {

// One pending proposal. Lives on the proposer's stack.
struct OpLog::Writer {
  explicit Writer(Mutex* mu) : cv(mu) {}
  const proto::LogEntry* entry = nullptr;
  ApplyResult result;
  bool done = false;
  CondVar cv;
};

Result<std::unique_ptr<OpLog>> OpLog::Open(const OpLogOptions& options,
                                           StateMachine* state_machine) {
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) {
    return Status::Internal("creating master data dir " + options.data_dir + ": " + ec.message());
  }
  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  db_options.paranoid_checks = true;
  db_options.IncreaseParallelism(2);
  rocksdb::DB* raw_db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, options.data_dir, &raw_db);
  if (!s.ok()) return FromRocksDb(s, "opening master metadata in " + options.data_dir);
  std::unique_ptr<rocksdb::DB> db(raw_db);

  proto::LogPosition position;
  MetaTxn txn(db.get(), MetaTxn::Mode::kReadWrite);
  Status found = txn.GetProto(LogPositionKey(), &position);
  if (found.IsNotFound()) {
    // A new database: bootstrap it durably before anything else.
    state_machine->Bootstrap(&txn);
    position.set_epoch(1);
    position.set_index(0);
    txn.PutProto(LogPositionKey(), position);
    rocksdb::WriteOptions sync;
    sync.sync = true;
    s = db->Write(sync, txn.batch());
    if (!s.ok()) return FromRocksDb(s, "bootstrapping master metadata in " + options.data_dir);
    LOG(INFO) << "created new master metadata in " << options.data_dir;
  } else if (!found.ok()) {
    return found.Prepend("reading the op log position in " + options.data_dir);
  } else {
    LOG(INFO) << "opened master metadata in " << options.data_dir << " at epoch "
              << position.epoch() << " index " << position.index();
  }
  return std::unique_ptr<OpLog>(
      new OpLog(options, state_machine, std::move(db), std::move(position)));
}

OpLog::OpLog(OpLogOptions options, StateMachine* state_machine, std::unique_ptr<rocksdb::DB> db,
             proto::LogPosition position)
    : options_(std::move(options)),
      state_machine_(state_machine),
      db_(std::move(db)),
      position_(std::move(position)) {}

OpLog::~OpLog() {
  rocksdb::Status s = db_->Close();
  if (!s.ok()) LOG(WARNING) << "closing master metadata: " << s.ToString();
}

ApplyResult OpLog::Propose(const proto::LogEntry& entry) {
  Writer w(&mu_);
  w.entry = &entry;

  mu_.Lock();
  writers_.push_back(&w);
  ++stats_.proposals;
  while (!w.done && &w != writers_.front()) w.cv.Wait();
  if (w.done) {
    mu_.Unlock();
    return std::move(w.result);
  }

  // This proposal leads a group: itself and whoever queued behind it.
  std::vector<Writer*> group;
  for (Writer* writer : writers_) {
    if (group.size() >= options_.max_group_entries) break;
    group.push_back(writer);
  }
  proto::LogPosition start = position_;
  mu_.Unlock();

  // Proposals arriving now queue up behind the group and form the next one.
  CommitGroup(group, start);

  mu_.Lock();
  for (Writer* writer : group) {
    CHECK(writers_.front() == writer);
    writers_.pop_front();
    if (writer != &w) {
      writer->done = true;
      writer->cv.Signal();
    }
  }
  if (!writers_.empty()) writers_.front()->cv.Signal();
  mu_.Unlock();
  return std::move(w.result);
}

void OpLog::CommitGroup(const std::vector<Writer*>& group, const proto::LogPosition& start) {
  MetaTxn txn(db_.get(), MetaTxn::Mode::kReadWrite);
  uint64_t index = start.index();
  for (Writer* writer : group) {
    proto::LogEntry entry = *writer->entry;
    entry.set_epoch(start.epoch());
    entry.set_index(index + 1);
    const uint32_t writes_before = txn.batch()->Count();
    txn.SetSavePoint();
    writer->result = state_machine_->Apply(entry, &txn);
    if (!writer->result.status.ok()) {
      txn.RollbackToSavePoint();
      continue;
    }
    txn.PopSavePoint();
    if (txn.batch()->Count() == writes_before) continue;  // no change, nothing to log
    ++index;
    txn.PutProto(LogKey(index), entry);
    if (index > options_.tail_entries) txn.Delete(LogKey(index - options_.tail_entries));
  }
  if (index == start.index()) return;  // nothing changed: no write, no fsync

  proto::LogPosition end = start;
  end.set_index(index);
  txn.PutProto(LogPositionKey(), end);
  rocksdb::WriteOptions sync;
  sync.sync = true;
  rocksdb::Status s = db_->Write(sync, txn.batch());
  if (!s.ok()) {
    // Nothing of the group is durable, and answers computed from its uncommitted
    // writes may be wrong: fail every proposal of the group.
    Status error = FromRocksDb(s, "committing to the master op log");
    LOG(ERROR) << error.ToString();
    for (Writer* writer : group) writer->result = ApplyResult{error, {}};
    return;
  }
  MutexLock lock(&mu_);
  position_ = end;
  stats_.logged_entries += index - start.index();
  ++stats_.synced_writes;
}

proto::LogPosition OpLog::applied() const {
  MutexLock lock(&mu_);
  return position_;
}

uint64_t OpLog::first_retained_index() const {
  MutexLock lock(&mu_);
  uint64_t last = position_.index();
  return last >= options_.tail_entries ? last - options_.tail_entries + 1 : 1;
}

Result<std::vector<proto::LogEntry>> OpLog::ReadEntries(uint64_t from_index, size_t max_entries) {
  const uint64_t first = first_retained_index();
  if (from_index < first) {
    return Status::OutOfRange("op log entries before index " + std::to_string(first) +
                              " were dropped; load a checkpoint");
  }
  MetaTxn txn(db_.get(), MetaTxn::Mode::kReadOnlySnapshot);
  std::unique_ptr<rocksdb::Iterator> it = txn.NewIterator();
  std::vector<proto::LogEntry> entries;
  const std::string end_key = LogKey(UINT64_MAX);
  for (it->Seek(LogKey(from_index)); it->Valid() && entries.size() < max_entries; it->Next()) {
    if (it->key().compare(end_key) > 0 || it->key()[0] != 'l') break;
    proto::LogEntry entry;
    if (!entry.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return Status::DataLoss("op log entry " +
                              std::to_string(GetBigEndian64(it->key().data() + 1)) +
                              " does not parse");
    }
    if (entry.index() != from_index + entries.size()) {
      return Status::DataLoss("op log has a gap before index " + std::to_string(entry.index()));
    }
    entries.push_back(std::move(entry));
  }
  if (!it->status().ok()) return FromRocksDb(it->status(), "reading the op log");
  return entries;
}

Status OpLog::CreateCheckpoint(const std::string& dir) {
  rocksdb::Checkpoint* raw = nullptr;
  rocksdb::Status s = rocksdb::Checkpoint::Create(db_.get(), &raw);
  if (!s.ok()) return FromRocksDb(s, "preparing a checkpoint");
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  s = checkpoint->CreateCheckpoint(dir);
  if (!s.ok()) return FromRocksDb(s, "writing a checkpoint to " + dir);
  return Status::OK();
}

OpLog::Stats OpLog::stats() const {
  MutexLock lock(&mu_);
  return stats_;
}

}  // namespace gfs::master
