#include "master/meta_txn.h"

#include <glog/logging.h>

#include "common/rocksdb_status.h"

namespace gfs::master {

MetaTxn::MetaTxn(rocksdb::DB* db, Mode) : db_(db) {
  batch_ = std::make_unique<rocksdb::WriteBatchWithIndex>(rocksdb::BytewiseComparator(), 0,
                                                          /*overwrite_key=*/true);
}

MetaTxn::MetaTxn(rocksdb::DB* db, std::shared_ptr<const rocksdb::Snapshot> snapshot)
    : db_(db), snapshot_(std::move(snapshot)) {
  CHECK(snapshot_ != nullptr);
  read_options_.snapshot = snapshot_.get();
}

MetaTxn::~MetaTxn() = default;

Status MetaTxn::Get(std::string_view key, std::string* value) {
  const rocksdb::Slice k(key.data(), key.size());
  // A read-only view has no writes of its own: no batch to merge (Stat's hot path).
  rocksdb::Status s = batch_ == nullptr ? db_->Get(read_options_, k, value)
                                        : batch_->GetFromBatchAndDB(db_, read_options_, k, value);
  if (s.IsNotFound()) return Status::NotFound("key not found");
  return FromRocksDb(s, "reading master metadata");
}

Status MetaTxn::GetProto(std::string_view key, google::protobuf::MessageLite* msg) {
  std::string value;
  GFS_RETURN_IF_ERROR(Get(key, &value));
  if (!msg->ParseFromString(value)) {
    return Status::DataLoss("master metadata record " + msg->GetTypeName() + " does not parse");
  }
  return Status::OK();
}

void MetaTxn::Put(std::string_view key, std::string_view value) {
  CHECK(batch_ != nullptr) << "write through a read-only MetaTxn";
  // Only fails for oversized keys or values, which would be our bug.
  CHECK(
      batch_
          ->Put(rocksdb::Slice(key.data(), key.size()), rocksdb::Slice(value.data(), value.size()))
          .ok());
}

void MetaTxn::PutProto(std::string_view key, const google::protobuf::MessageLite& msg) {
  Put(key, msg.SerializeAsString());
}

void MetaTxn::Delete(std::string_view key) {
  CHECK(batch_ != nullptr) << "write through a read-only MetaTxn";
  CHECK(batch_->Delete(rocksdb::Slice(key.data(), key.size())).ok());
}

std::unique_ptr<rocksdb::Iterator> MetaTxn::NewIterator() {
  if (snapshot_ != nullptr) {
    return std::unique_ptr<rocksdb::Iterator>(db_->NewIterator(read_options_));
  }
  return std::unique_ptr<rocksdb::Iterator>(
      batch_->NewIteratorWithBase(db_->NewIterator(read_options_)));
}

void MetaTxn::SetSavePoint() { batch_->SetSavePoint(); }

void MetaTxn::RollbackToSavePoint() { CHECK(batch_->RollbackToSavePoint().ok()); }

void MetaTxn::PopSavePoint() { CHECK(batch_->PopSavePoint().ok()); }

}  // namespace gfs::master
