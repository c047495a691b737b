#include "master/namespace.h"

#include <algorithm>

#include "common/path.h"
#include "master/meta_keys.h"
#include "master/meta_txn.h"
#include "master/state_machine.h"

namespace gfs::master {

Namespace::Namespace(NamespaceOptions options, OpLog* log, Clock* clock)
    : options_(options), log_(log), clock_(clock) {}

ApplyResult Namespace::Propose(proto::LogEntry entry) {
  entry.set_timestamp_us(clock_->NowMicros());
  return log_->Propose(entry);
}

void Namespace::ProposeAsync(proto::LogEntry entry, OpLog::Callback done) {
  entry.set_timestamp_us(clock_->NowMicros());
  log_->ProposeAsync(entry, std::move(done));
}

Result<proto::LogEntry> Namespace::MkdirEntry(const std::string& path, bool parents) const {
  GFS_RETURN_IF_ERROR(ValidatePath(path));
  proto::LogEntry entry;
  entry.mutable_mkdir()->set_path(path);
  entry.mutable_mkdir()->set_parents(parents);
  return entry;
}

Result<proto::LogEntry> Namespace::CreateFileEntry(const std::string& path, uint32_t replication,
                                                   bool ok_if_exists) const {
  GFS_RETURN_IF_ERROR(ValidatePath(path));
  if (replication == 0) replication = options_.default_replication;
  if (replication > options_.max_replication) {
    return Status::InvalidArgument("create " + path + ": replication " +
                                   std::to_string(replication) + " exceeds the maximum of " +
                                   std::to_string(options_.max_replication));
  }
  proto::LogEntry entry;
  proto::CreateFileOp* op = entry.mutable_create_file();
  op->set_path(path);
  op->set_replication(replication);
  op->set_chunk_size(options_.chunk_size_bytes);
  op->set_ok_if_exists(ok_if_exists);
  return entry;
}

Result<proto::LogEntry> Namespace::DeleteEntry(const std::string& path, bool recursive) const {
  GFS_RETURN_IF_ERROR(ValidatePath(path));
  proto::LogEntry entry;
  entry.mutable_delete_()->set_path(path);
  entry.mutable_delete_()->set_recursive(recursive);
  return entry;
}

Result<proto::LogEntry> Namespace::RenameEntry(const std::string& src,
                                               const std::string& dst) const {
  GFS_RETURN_IF_ERROR(ValidatePath(src));
  GFS_RETURN_IF_ERROR(ValidatePath(dst));
  proto::LogEntry entry;
  entry.mutable_rename()->set_src(src);
  entry.mutable_rename()->set_dst(dst);
  return entry;
}

Result<proto::FileInfo> Namespace::Mkdir(const std::string& path, bool parents) {
  GFS_ASSIGN_OR_RETURN(proto::LogEntry entry, MkdirEntry(path, parents));
  ApplyResult result = Propose(std::move(entry));
  GFS_RETURN_IF_ERROR(result.status);
  return std::move(result.info);
}

Result<proto::FileInfo> Namespace::CreateFile(const std::string& path, uint32_t replication,
                                              bool ok_if_exists) {
  GFS_ASSIGN_OR_RETURN(proto::LogEntry entry, CreateFileEntry(path, replication, ok_if_exists));
  ApplyResult result = Propose(std::move(entry));
  GFS_RETURN_IF_ERROR(result.status);
  return std::move(result.info);
}

Status Namespace::Delete(const std::string& path, bool recursive) {
  GFS_ASSIGN_OR_RETURN(proto::LogEntry entry, DeleteEntry(path, recursive));
  return Propose(std::move(entry)).status;
}

Status Namespace::Rename(const std::string& src, const std::string& dst) {
  GFS_ASSIGN_OR_RETURN(proto::LogEntry entry, RenameEntry(src, dst));
  return Propose(std::move(entry)).status;
}

Result<proto::FileInfo> Namespace::Undelete(const std::string& path) {
  GFS_RETURN_IF_ERROR(ValidatePath(path));
  proto::LogEntry entry;
  entry.mutable_undelete()->set_path(path);
  ApplyResult result = Propose(std::move(entry));
  GFS_RETURN_IF_ERROR(result.status);
  return std::move(result.info);
}

Result<std::vector<proto::TrashRecord>> Namespace::ExpiredTrash(int64_t retention_us, size_t max) {
  MetaTxn txn(log_->db(), log_->durable_snapshot());
  return ListTrash(&txn, clock_->NowMicros() - retention_us, max);
}

Status Namespace::Purge(const proto::TrashRecord& trash) {
  proto::LogEntry entry;
  entry.mutable_purge()->set_deleted_at_us(trash.deleted_at_us());
  entry.mutable_purge()->set_inode_id(trash.inode_id());
  return Propose(std::move(entry)).status;
}

Status Namespace::Snapshot(const std::string& src, const std::string& dst,
                           const std::vector<uint64_t>& frozen_handles) {
  GFS_RETURN_IF_ERROR(ValidatePath(src));
  GFS_RETURN_IF_ERROR(ValidatePath(dst));
  proto::LogEntry entry;
  entry.mutable_snapshot()->set_src(src);
  entry.mutable_snapshot()->set_dst(dst);
  for (uint64_t handle : frozen_handles) entry.mutable_snapshot()->add_frozen_handles(handle);
  return Propose(std::move(entry)).status;
}

Result<proto::LogEntry> Namespace::ExtendFileEntry(const std::string& path, uint64_t length,
                                                   uint64_t inode_id) const {
  GFS_RETURN_IF_ERROR(ValidatePath(path));
  proto::LogEntry entry;
  entry.mutable_extend_file()->set_path(path);
  entry.mutable_extend_file()->set_length(length);
  entry.mutable_extend_file()->set_inode_id(inode_id);
  return entry;
}

Result<proto::FileInfo> Namespace::Stat(const std::string& path) {
  GFS_RETURN_IF_ERROR(ValidatePath(path));
  MetaTxn txn(log_->db(), log_->durable_snapshot());
  GFS_ASSIGN_OR_RETURN(proto::InodeRecord inode, ResolvePath(&txn, path));
  return ToFileInfo(inode);
}

Status Namespace::List(const std::string& path, const std::string& start_after, uint32_t limit,
                       proto::ListResponse* response) {
  GFS_RETURN_IF_ERROR(ValidatePath(path));
  if (limit == 0) limit = options_.default_list_limit;
  limit = std::min(limit, options_.max_list_limit);
  MetaTxn txn(log_->db(), log_->durable_snapshot());
  GFS_ASSIGN_OR_RETURN(proto::InodeRecord dir, ResolvePath(&txn, path));
  if (dir.type() != proto::FILE_TYPE_DIRECTORY) {
    // Listing a file lists the file, as ls does.
    if (start_after.empty()) *response->add_entries() = ToFileInfo(dir);
    return Status::OK();
  }
  const std::string prefix = DentryPrefix(dir.id());
  std::unique_ptr<rocksdb::Iterator> it = txn.NewIterator();
  it->Seek(DentryKey(dir.id(), start_after));
  if (!start_after.empty() && it->Valid() && DentryName(it->key().ToStringView()) == start_after) {
    it->Next();
  }
  for (; it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (static_cast<uint32_t>(response->entries_size()) == limit) {
      response->set_has_more(true);
      response->set_next_start_after(response->entries().rbegin()->name());
      break;
    }
    proto::DentryRecord dentry;
    if (!dentry.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return Status::DataLoss("list " + path + ": an entry does not parse");
    }
    proto::InodeRecord inode;
    Status s = txn.GetProto(InodeKey(dentry.inode_id()), &inode);
    if (s.IsNotFound()) {
      return Status::DataLoss("list " + path + ": entry " +
                              std::string(DentryName(it->key().ToStringView())) +
                              " points at a missing inode");
    }
    GFS_RETURN_IF_ERROR(s.Prepend("list " + path));
    *response->add_entries() = ToFileInfo(inode);
  }
  if (!it->status().ok()) return Status::Internal("list " + path + ": " + it->status().ToString());
  return Status::OK();
}

}  // namespace gfs::master
