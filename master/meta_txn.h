// A view of the master's RocksDB state plus a batch of pending writes on top of it.
//
// The state machine applies log entries through a MetaTxn: its reads see the database
// and every write made earlier in the same transaction (so entries committed together
// in one group see each other's effects), and nothing reaches the database until the
// owner writes batch() atomically. Read-only queries use a MetaTxn too, pinned to a
// RocksDB snapshot (the op log's durable one) so that a multi-key read is consistent.
//
// Not thread-safe: one thread at a time.
#pragma once

#include <google/protobuf/message_lite.h>
#include <rocksdb/db.h>
#include <rocksdb/utilities/write_batch_with_index.h>

#include <memory>
#include <string>
#include <string_view>

#include "gfs/status.h"

namespace gfs::master {

class MetaTxn {
 public:
  enum class Mode { kReadWrite };

  // A read-write transaction. `db` must outlive it.
  MetaTxn(rocksdb::DB* db, Mode mode);
  // A read-only view of `snapshot` (OpLog::durable_snapshot()), which must be of `db`.
  MetaTxn(rocksdb::DB* db, std::shared_ptr<const rocksdb::Snapshot> snapshot);
  ~MetaTxn();
  MetaTxn(const MetaTxn&) = delete;
  MetaTxn& operator=(const MetaTxn&) = delete;

  // Reads `key`. Returns NotFound when absent.
  Status Get(std::string_view key, std::string* value);
  // Reads and parses `key` into `msg`. Returns NotFound when absent, DataLoss when the
  // stored bytes do not parse.
  Status GetProto(std::string_view key, google::protobuf::MessageLite* msg);

  void Put(std::string_view key, std::string_view value);
  void PutProto(std::string_view key, const google::protobuf::MessageLite& msg);
  void Delete(std::string_view key);

  // An iterator over the database merged with this transaction's writes. The caller
  // seeks it; it must not outlive the transaction.
  std::unique_ptr<rocksdb::Iterator> NewIterator();

  // Marks a point to roll back to, so a failed entry leaves no partial writes.
  void SetSavePoint();
  void RollbackToSavePoint();
  void PopSavePoint();

  // The writes made so far, to be committed atomically by the owner.
  // REQUIRES: a read-write transaction.
  rocksdb::WriteBatch* batch() { return batch_->GetWriteBatch(); }
  bool empty() { return batch_ == nullptr || batch_->GetWriteBatch()->Count() == 0; }

 private:
  rocksdb::DB* const db_;
  const std::shared_ptr<const rocksdb::Snapshot> snapshot_;  // only read-only views
  rocksdb::ReadOptions read_options_;
  // The pending writes; only in kReadWrite (read-only views skip building it).
  std::unique_ptr<rocksdb::WriteBatchWithIndex> batch_;
};

}  // namespace gfs::master
