#include "master/state_machine.h"

#include <glog/logging.h>

#include <algorithm>
#include <vector>

#include "common/path.h"
#include "common/rocksdb_status.h"
#include "master/meta_keys.h"
#include "master/meta_txn.h"

namespace gfs::master {
namespace {

// Reads the inode record `id`. A dentry pointing at a missing inode is corruption.
Result<proto::InodeRecord> GetInode(MetaTxn* txn, uint64_t id) {
  proto::InodeRecord inode;
  Status s = txn->GetProto(InodeKey(id), &inode);
  if (s.IsNotFound()) {
    return Status::DataLoss("inode " + std::to_string(id) + " is referenced but missing");
  }
  GFS_RETURN_IF_ERROR(s);
  return inode;
}

// Looks up `name` in directory `dir_id`. Returns NotFound when absent.
Result<proto::DentryRecord> GetDentry(MetaTxn* txn, uint64_t dir_id, const std::string& name) {
  proto::DentryRecord dentry;
  GFS_RETURN_IF_ERROR(txn->GetProto(DentryKey(dir_id, name), &dentry));
  return dentry;
}

uint64_t AllocateInodeId(MetaTxn* txn) {
  std::string value;
  Status s = txn->Get(NextInodeIdKey(), &value);
  // Bootstrap wrote the counter; a missing or malformed one means a broken database,
  // which Open would have refused.
  CHECK(s.ok() && value.size() == 8) << "inode id counter: " << s.ToString();
  uint64_t id = GetBigEndian64(value.data());
  std::string next;
  PutBigEndian64(&next, id + 1);
  txn->Put(NextInodeIdKey(), next);
  return id;
}

void PutInode(MetaTxn* txn, const proto::InodeRecord& inode) {
  txn->PutProto(InodeKey(inode.id()), inode);
}

void PutDentry(MetaTxn* txn, const proto::InodeRecord& inode) {
  proto::DentryRecord dentry;
  dentry.set_inode_id(inode.id());
  dentry.set_type(inode.type());
  txn->PutProto(DentryKey(inode.parent_id(), inode.name()), dentry);
}

// Sets the mtime of directory `dir` to the entry's time (its entries changed).
Status TouchDirectory(MetaTxn* txn, uint64_t dir_id, int64_t timestamp_us) {
  GFS_ASSIGN_OR_RETURN(proto::InodeRecord dir, GetInode(txn, dir_id));
  dir.set_mtime_us(timestamp_us);
  PutInode(txn, dir);
  return Status::OK();
}

// Resolves the parent directory of `path` (not "/"). Returns NotFound or
// FailedPrecondition naming the parent when it is missing or not a directory.
Result<proto::InodeRecord> ResolveParentDirectory(MetaTxn* txn, const std::string& path) {
  const std::string parent_path = ParentPath(path);
  Result<proto::InodeRecord> parent = ResolvePath(txn, parent_path);
  if (parent.status().IsNotFound()) {
    return Status::NotFound("parent directory " + parent_path + " does not exist");
  }
  GFS_RETURN_IF_ERROR(parent.status());
  if (parent->type() != proto::FILE_TYPE_DIRECTORY) {
    return Status::FailedPrecondition(parent_path + " is not a directory");
  }
  return parent;
}

bool HasChildren(MetaTxn* txn, uint64_t dir_id) {
  const std::string prefix = DentryPrefix(dir_id);
  std::unique_ptr<rocksdb::Iterator> it = txn->NewIterator();
  it->Seek(prefix);
  return it->Valid() && it->key().starts_with(prefix);
}

ApplyResult Error(Status status) { return ApplyResult{std::move(status), {}}; }

ApplyResult Found(const proto::InodeRecord& inode) {
  return ApplyResult{Status::OK(), ToFileInfo(inode)};
}

ApplyResult ApplyMkdir(const proto::LogEntry& entry, MetaTxn* txn) {
  const proto::MkdirOp& op = entry.mkdir();
  if (Status s = ValidatePath(op.path()); !s.ok()) return Error(s);
  if (op.path() == "/") {
    if (!op.parents()) return Error(Status::AlreadyExists("/ already exists"));
    Result<proto::InodeRecord> root = GetInode(txn, kRootInodeId);
    return root.ok() ? Found(*root) : Error(root.status());
  }
  const std::vector<std::string> components = SplitPath(op.path());
  uint64_t dir_id = kRootInodeId;
  std::string walked;
  for (size_t i = 0; i < components.size(); ++i) {
    const bool last = i + 1 == components.size();
    const std::string& name = components[i];
    walked = JoinPath(walked.empty() ? "/" : walked, name);
    Result<proto::DentryRecord> dentry = GetDentry(txn, dir_id, name);
    if (dentry.ok()) {
      if (dentry->type() != proto::FILE_TYPE_DIRECTORY) {
        return Error(last ? Status::AlreadyExists(walked + " already exists as a file")
                          : Status::FailedPrecondition(walked + " is not a directory"));
      }
      if (last) {
        if (!op.parents()) return Error(Status::AlreadyExists(walked + " already exists"));
        Result<proto::InodeRecord> existing = GetInode(txn, dentry->inode_id());
        return existing.ok() ? Found(*existing) : Error(existing.status());
      }
      dir_id = dentry->inode_id();
      continue;
    }
    if (!dentry.status().IsNotFound()) return Error(dentry.status());
    if (!last && !op.parents()) {
      return Error(Status::NotFound("parent directory " + walked + " does not exist"));
    }
    proto::InodeRecord dir;
    dir.set_id(AllocateInodeId(txn));
    dir.set_type(proto::FILE_TYPE_DIRECTORY);
    dir.set_parent_id(dir_id);
    dir.set_name(name);
    dir.set_mtime_us(entry.timestamp_us());
    PutInode(txn, dir);
    PutDentry(txn, dir);
    if (Status s = TouchDirectory(txn, dir_id, entry.timestamp_us()); !s.ok()) return Error(s);
    if (last) return Found(dir);
    dir_id = dir.id();
  }
  return Error(Status::Internal("mkdir " + op.path() + ": unreachable"));
}

ApplyResult ApplyCreateFile(const proto::LogEntry& entry, MetaTxn* txn) {
  const proto::CreateFileOp& op = entry.create_file();
  if (Status s = ValidatePath(op.path()); !s.ok()) return Error(s);
  if (op.path() == "/") return Error(Status::AlreadyExists("/ already exists as a directory"));
  if (op.replication() == 0 || op.chunk_size() == 0) {
    return Error(Status::InvalidArgument("create " + op.path() +
                                         ": replication and chunk size must be positive"));
  }
  Result<proto::InodeRecord> parent = ResolveParentDirectory(txn, op.path());
  if (!parent.ok()) return Error(parent.status());
  const std::string name = BaseName(op.path());
  Result<proto::DentryRecord> dentry = GetDentry(txn, parent->id(), name);
  if (dentry.ok()) {
    if (dentry->type() == proto::FILE_TYPE_FILE && op.ok_if_exists()) {
      Result<proto::InodeRecord> existing = GetInode(txn, dentry->inode_id());
      return existing.ok() ? Found(*existing) : Error(existing.status());
    }
    return Error(Status::AlreadyExists(op.path() + " already exists"));
  }
  if (!dentry.status().IsNotFound()) return Error(dentry.status());

  proto::InodeRecord file;
  file.set_id(AllocateInodeId(txn));
  file.set_type(proto::FILE_TYPE_FILE);
  file.set_parent_id(parent->id());
  file.set_name(name);
  file.set_mtime_us(entry.timestamp_us());
  file.set_replication(op.replication());
  file.set_chunk_size(op.chunk_size());
  PutInode(txn, file);
  PutDentry(txn, file);
  if (Status s = TouchDirectory(txn, parent->id(), entry.timestamp_us()); !s.ok()) return Error(s);
  return Found(file);
}

// Deletes the chunk records of file `inode_id`. Its replicas become orphans on the
// chunkservers, reclaimed by garbage collection.
Status DeleteFileChunks(MetaTxn* txn, uint64_t inode_id) {
  const std::string prefix = FileChunkPrefix(inode_id);
  std::vector<std::string> keys;
  std::vector<uint64_t> handles;
  std::unique_ptr<rocksdb::Iterator> it = txn->NewIterator();
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (it->value().size() != 8) {
      return Status::DataLoss("chunk entry of inode " + std::to_string(inode_id) + " is malformed");
    }
    keys.push_back(it->key().ToString());
    handles.push_back(GetBigEndian64(it->value().data()));
  }
  if (!it->status().ok()) return FromRocksDb(it->status(), "scanning a file's chunks");
  for (const std::string& key : keys) txn->Delete(key);
  // A chunk shared with a snapshot stays for the others; the last reference drops it.
  for (uint64_t handle : handles) {
    proto::ChunkRecord chunk;
    Status s = txn->GetProto(ChunkKey(handle), &chunk);
    if (s.IsNotFound()) continue;
    GFS_RETURN_IF_ERROR(s);
    if (chunk.refcount() > 1) {
      chunk.set_refcount(chunk.refcount() - 1);
      txn->PutProto(ChunkKey(handle), chunk);
    } else {
      txn->Delete(ChunkKey(handle));
    }
  }
  return Status::OK();
}

// Deletes every dentry and inode below directory `dir_id` (not the directory itself).
Status DeleteSubtree(MetaTxn* txn, uint64_t dir_id) {
  std::vector<uint64_t> pending = {dir_id};
  while (!pending.empty()) {
    const uint64_t id = pending.back();
    pending.pop_back();
    const std::string prefix = DentryPrefix(id);
    std::vector<std::string> keys;
    std::unique_ptr<rocksdb::Iterator> it = txn->NewIterator();
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      proto::DentryRecord child;
      if (!child.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
        return Status::DataLoss("dentry of directory " + std::to_string(id) + " does not parse");
      }
      if (child.type() == proto::FILE_TYPE_DIRECTORY) {
        pending.push_back(child.inode_id());
      } else {
        GFS_RETURN_IF_ERROR(DeleteFileChunks(txn, child.inode_id()));
      }
      keys.push_back(it->key().ToString());
      txn->Delete(InodeKey(child.inode_id()));
    }
    if (!it->status().ok()) return FromRocksDb(it->status(), "scanning directory entries");
    for (const std::string& key : keys) txn->Delete(key);
  }
  return Status::OK();
}

ApplyResult ApplyDelete(const proto::LogEntry& entry, MetaTxn* txn) {
  const proto::DeleteOp& op = entry.delete_();
  if (Status s = ValidatePath(op.path()); !s.ok()) return Error(s);
  if (op.path() == "/") return Error(Status::InvalidArgument("cannot delete the root directory"));
  Result<proto::InodeRecord> inode = ResolvePath(txn, op.path());
  if (!inode.ok()) return Error(inode.status());
  if (inode->type() == proto::FILE_TYPE_DIRECTORY && !op.recursive() &&
      HasChildren(txn, inode->id())) {
    return Error(Status::FailedPrecondition(op.path() + " is a non-empty directory"));
  }
  // Lazy deletion: the entry leaves the namespace for the trash, whole (inodes, chunk
  // records), until it is undeleted or purged.
  txn->Delete(DentryKey(inode->parent_id(), inode->name()));
  proto::TrashRecord trash;
  trash.set_path(op.path());
  trash.set_inode_id(inode->id());
  trash.set_deleted_at_us(entry.timestamp_us());
  txn->PutProto(TrashKey(trash.deleted_at_us(), trash.inode_id()), trash);
  txn->Put(TrashByPathKey(op.path(), trash.deleted_at_us(), trash.inode_id()), "");
  if (Status s = TouchDirectory(txn, inode->parent_id(), entry.timestamp_us()); !s.ok()) {
    return Error(s);
  }
  return ApplyResult{Status::OK(), {}};
}

ApplyResult ApplyUndelete(const proto::LogEntry& entry, MetaTxn* txn) {
  const std::string& path = entry.undelete().path();
  if (Status s = ValidatePath(path); !s.ok()) return Error(s);
  if (path == "/") return Error(Status::InvalidArgument("/ is never deleted"));
  // The most recent deletion at `path` is the last key under its prefix.
  const std::string prefix = TrashByPathPrefix(path);
  std::string latest;
  {
    std::unique_ptr<rocksdb::Iterator> it = txn->NewIterator();
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      latest = it->key().ToString();
    }
    if (!it->status().ok()) return Error(FromRocksDb(it->status(), "scanning the trash"));
  }
  if (latest.size() != prefix.size() + 16) {
    return Error(Status::NotFound("nothing deleted at " + path + " is in the trash"));
  }
  const int64_t deleted_at = static_cast<int64_t>(GetBigEndian64(latest.data() + prefix.size()));
  const uint64_t inode_id = GetBigEndian64(latest.data() + prefix.size() + 8);
  if (ResolvePath(txn, path).ok()) {
    return Error(Status::AlreadyExists(path + " exists; move it away to undelete"));
  }
  Result<proto::InodeRecord> parent = ResolveParentDirectory(txn, path);
  if (!parent.ok()) return Error(parent.status());
  Result<proto::InodeRecord> inode = GetInode(txn, inode_id);
  if (!inode.ok()) return Error(inode.status());
  inode->set_parent_id(parent->id());
  inode->set_name(BaseName(path));
  PutInode(txn, *inode);
  PutDentry(txn, *inode);
  txn->Delete(latest);
  txn->Delete(TrashKey(deleted_at, inode_id));
  if (Status s = TouchDirectory(txn, parent->id(), entry.timestamp_us()); !s.ok()) {
    return Error(s);
  }
  return Found(*inode);
}

ApplyResult ApplyPurge(const proto::LogEntry& entry, MetaTxn* txn) {
  const proto::PurgeOp& op = entry.purge();
  proto::TrashRecord trash;
  Status s = txn->GetProto(TrashKey(op.deleted_at_us(), op.inode_id()), &trash);
  if (s.IsNotFound()) {
    return Error(Status::NotFound("trash entry of inode " + std::to_string(op.inode_id()) +
                                  " is gone (undeleted or purged)"));
  }
  if (!s.ok()) return Error(s);
  Result<proto::InodeRecord> inode = GetInode(txn, op.inode_id());
  if (!inode.ok()) return Error(inode.status());
  if (inode->type() == proto::FILE_TYPE_DIRECTORY) {
    if (Status d = DeleteSubtree(txn, inode->id()); !d.ok()) return Error(d);
  } else if (Status d = DeleteFileChunks(txn, inode->id()); !d.ok()) {
    return Error(d);
  }
  txn->Delete(InodeKey(inode->id()));
  txn->Delete(TrashKey(op.deleted_at_us(), op.inode_id()));
  txn->Delete(TrashByPathKey(trash.path(), op.deleted_at_us(), op.inode_id()));
  return ApplyResult{Status::OK(), {}};
}

ApplyResult ApplyRename(const proto::LogEntry& entry, MetaTxn* txn) {
  const proto::RenameOp& op = entry.rename();
  if (Status s = ValidatePath(op.src()); !s.ok()) return Error(s);
  if (Status s = ValidatePath(op.dst()); !s.ok()) return Error(s);
  if (op.src() == "/" || op.dst() == "/") {
    return Error(Status::InvalidArgument("cannot rename the root directory"));
  }
  Result<proto::InodeRecord> inode = ResolvePath(txn, op.src());
  if (!inode.ok()) return Error(inode.status());
  if (op.src() == op.dst()) return ApplyResult{Status::OK(), {}};  // nothing to do
  if (IsSameOrUnder(op.dst(), op.src())) {
    return Error(
        Status::InvalidArgument("cannot move " + op.src() + " into its own subtree " + op.dst()));
  }
  Result<proto::InodeRecord> new_parent = ResolveParentDirectory(txn, op.dst());
  if (!new_parent.ok()) return Error(new_parent.status());
  const std::string new_name = BaseName(op.dst());
  Result<proto::DentryRecord> existing = GetDentry(txn, new_parent->id(), new_name);
  if (existing.ok()) return Error(Status::AlreadyExists(op.dst() + " already exists"));
  if (!existing.status().IsNotFound()) return Error(existing.status());

  const uint64_t old_parent_id = inode->parent_id();
  txn->Delete(DentryKey(old_parent_id, inode->name()));
  inode->set_parent_id(new_parent->id());
  inode->set_name(new_name);
  PutInode(txn, *inode);
  PutDentry(txn, *inode);
  if (Status s = TouchDirectory(txn, old_parent_id, entry.timestamp_us()); !s.ok()) {
    return Error(s);
  }
  if (new_parent->id() != old_parent_id) {
    if (Status s = TouchDirectory(txn, new_parent->id(), entry.timestamp_us()); !s.ok()) {
      return Error(s);
    }
  }
  return ApplyResult{Status::OK(), {}};
}

// Keeps the next-handle counter past `used`.
void RaiseNextHandle(MetaTxn* txn, uint64_t used) {
  std::string next;
  if (!txn->Get(NextChunkHandleKey(), &next).ok() || next.size() != 8 ||
      GetBigEndian64(next.data()) <= used) {
    std::string value;
    PutBigEndian64(&value, used + 1);
    txn->Put(NextChunkHandleKey(), value);
  }
}

ApplyResult ApplyAddChunk(const proto::LogEntry& entry, MetaTxn* txn) {
  const proto::AddChunkOp& op = entry.add_chunk();
  proto::InodeRecord file;
  Status s = txn->GetProto(InodeKey(op.inode_id()), &file);
  if (s.IsNotFound()) {
    return Error(Status::NotFound("file " + std::to_string(op.inode_id()) + " was deleted"));
  }
  if (!s.ok()) return Error(s);
  if (file.type() != proto::FILE_TYPE_FILE) {
    return Error(
        Status::FailedPrecondition("inode " + std::to_string(op.inode_id()) + " is not a file"));
  }
  std::string existing;
  if (txn->Get(FileChunkKey(op.inode_id(), op.index()), &existing).ok()) {
    return Error(Status::AlreadyExists("chunk " + std::to_string(op.index()) + " of " +
                                       file.name() + " is already allocated"));
  }
  proto::ChunkRecord chunk;
  if (txn->GetProto(ChunkKey(op.handle()), &chunk).ok()) {
    return Error(
        Status::AlreadyExists("chunk handle " + std::to_string(op.handle()) + " is in use"));
  }
  chunk.set_handle(op.handle());
  chunk.set_version(op.version());
  chunk.set_inode_id(op.inode_id());
  chunk.set_index(op.index());
  chunk.set_refcount(1);
  txn->PutProto(ChunkKey(op.handle()), chunk);
  std::string handle_bytes;
  PutBigEndian64(&handle_bytes, op.handle());
  txn->Put(FileChunkKey(op.inode_id(), op.index()), handle_bytes);
  RaiseNextHandle(txn, op.handle());
  return ApplyResult{Status::OK(), ToFileInfo(file)};
}

ApplyResult ApplySetChunkVersion(const proto::LogEntry& entry, MetaTxn* txn) {
  const proto::SetChunkVersionOp& op = entry.set_chunk_version();
  proto::ChunkRecord chunk;
  Status s = txn->GetProto(ChunkKey(op.handle()), &chunk);
  if (s.IsNotFound()) {
    return Error(Status::NotFound("chunk " + std::to_string(op.handle()) + " does not exist"));
  }
  if (!s.ok()) return Error(s);
  // Versions only grow; setting an older or equal one changes nothing.
  if (op.version() > chunk.version()) {
    chunk.set_version(op.version());
    txn->PutProto(ChunkKey(op.handle()), chunk);
  }
  return ApplyResult{Status::OK(), {}};
}

ApplyResult ApplyExtendFile(const proto::LogEntry& entry, MetaTxn* txn) {
  const proto::ExtendFileOp& op = entry.extend_file();
  if (Status s = ValidatePath(op.path()); !s.ok()) return Error(s);
  Result<proto::InodeRecord> file = op.inode_id() != 0
                                        ? ResolveLiveInode(txn, op.inode_id(), op.path())
                                        : ResolvePath(txn, op.path());
  if (!file.ok()) return Error(file.status());
  if (file->type() != proto::FILE_TYPE_FILE) {
    return Error(Status::FailedPrecondition(op.path() + " is a directory"));
  }
  if (op.length() > file->size()) {
    file->set_size(op.length());
    file->set_mtime_us(entry.timestamp_us());
    PutInode(txn, *file);
  }
  return Found(*file);
}

// Copies file `from`'s chunk list to file `to`, one more reference per chunk.
Status ShareFileChunks(MetaTxn* txn, uint64_t from, uint64_t to) {
  const std::string prefix = FileChunkPrefix(from);
  std::vector<std::pair<uint64_t, uint64_t>> entries;  // (index, handle)
  std::unique_ptr<rocksdb::Iterator> it = txn->NewIterator();
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (it->value().size() != 8) {
      return Status::DataLoss("chunk entry of inode " + std::to_string(from) + " is malformed");
    }
    entries.emplace_back(GetBigEndian64(it->key().data() + prefix.size()),
                         GetBigEndian64(it->value().data()));
  }
  if (!it->status().ok()) return FromRocksDb(it->status(), "scanning a file's chunks");
  it.reset();
  for (const auto& [index, handle] : entries) {
    proto::ChunkRecord chunk;
    GFS_RETURN_IF_ERROR(txn->GetProto(ChunkKey(handle), &chunk));
    chunk.set_refcount(std::max<uint32_t>(1, chunk.refcount()) + 1);
    txn->PutProto(ChunkKey(handle), chunk);
    std::string value;
    PutBigEndian64(&value, handle);
    txn->Put(FileChunkKey(to, index), value);
  }
  return Status::OK();
}

ApplyResult ApplySnapshot(const proto::LogEntry& entry, MetaTxn* txn) {
  const proto::SnapshotOp& op = entry.snapshot();
  if (Status s = ValidatePath(op.src()); !s.ok()) return Error(s);
  if (Status s = ValidatePath(op.dst()); !s.ok()) return Error(s);
  if (IsSameOrUnder(op.dst(), op.src())) {
    return Error(
        Status::InvalidArgument("cannot snapshot " + op.src() + " into itself (" + op.dst() + ")"));
  }
  Result<proto::InodeRecord> src = ResolvePath(txn, op.src());
  if (!src.ok()) return Error(src.status());
  {
    Result<std::vector<uint64_t>> handles = CollectChunkHandles(txn, *src);
    if (!handles.ok()) return Error(handles.status());
    std::sort(handles->begin(), handles->end());
    handles->erase(std::unique(handles->begin(), handles->end()), handles->end());
    if (!std::equal(handles->begin(), handles->end(), op.frozen_handles().begin(),
                    op.frozen_handles().end())) {
      return Error(Status::Aborted("snapshot " + op.src() +
                                   ": its chunks changed while their leases were taken back"));
    }
  }
  if (op.dst() == "/" || ResolvePath(txn, op.dst()).ok()) {
    return Error(Status::AlreadyExists(op.dst() + " already exists"));
  }
  Result<proto::InodeRecord> parent = ResolveParentDirectory(txn, op.dst());
  if (!parent.ok()) return Error(parent.status());

  // Copy the tree breadth-first: (source inode, the copy's parent, the copy's name).
  struct Pending {
    proto::InodeRecord source;
    uint64_t parent_id;
    std::string name;
  };
  std::vector<Pending> pending = {{*src, parent->id(), BaseName(op.dst())}};
  proto::InodeRecord top;
  while (!pending.empty()) {
    Pending next = std::move(pending.back());
    pending.pop_back();
    proto::InodeRecord copy = next.source;
    copy.set_id(AllocateInodeId(txn));
    copy.set_parent_id(next.parent_id);
    copy.set_name(next.name);
    PutInode(txn, copy);
    PutDentry(txn, copy);
    if (top.id() == 0) top = copy;
    if (copy.type() == proto::FILE_TYPE_FILE) {
      if (Status s = ShareFileChunks(txn, next.source.id(), copy.id()); !s.ok()) return Error(s);
      continue;
    }
    const std::string prefix = DentryPrefix(next.source.id());
    std::unique_ptr<rocksdb::Iterator> it = txn->NewIterator();
    std::vector<proto::DentryRecord> children;
    std::vector<std::string> names;
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      proto::DentryRecord child;
      if (!child.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
        return Error(Status::DataLoss("a dentry under " + op.src() + " does not parse"));
      }
      children.push_back(child);
      names.emplace_back(DentryName(it->key().ToStringView()));
    }
    if (!it->status().ok()) return Error(FromRocksDb(it->status(), "scanning " + op.src()));
    it.reset();
    for (size_t i = 0; i < children.size(); ++i) {
      Result<proto::InodeRecord> child = GetInode(txn, children[i].inode_id());
      if (!child.ok()) return Error(child.status());
      pending.push_back({*child, copy.id(), names[i]});
    }
  }
  if (Status s = TouchDirectory(txn, parent->id(), entry.timestamp_us()); !s.ok()) {
    return Error(s);
  }
  return Found(top);
}

ApplyResult ApplyCopyOnWrite(const proto::LogEntry& entry, MetaTxn* txn) {
  const proto::CopyOnWriteOp& op = entry.copy_on_write();
  std::string current;
  Status s = txn->Get(FileChunkKey(op.inode_id(), op.index()), &current);
  if (s.IsNotFound()) {
    return Error(Status::NotFound("chunk " + std::to_string(op.index()) + " of inode " +
                                  std::to_string(op.inode_id()) + " is gone"));
  }
  if (!s.ok()) return Error(s);
  if (current.size() != 8 || GetBigEndian64(current.data()) != op.old_handle()) {
    // Another writer copied it first: use theirs.
    return Error(Status::AlreadyExists("chunk " + std::to_string(op.index()) + " of inode " +
                                       std::to_string(op.inode_id()) + " was already copied"));
  }
  proto::ChunkRecord old_chunk;
  s = txn->GetProto(ChunkKey(op.old_handle()), &old_chunk);
  if (!s.ok()) return Error(s);
  if (old_chunk.refcount() > 1) {
    old_chunk.set_refcount(old_chunk.refcount() - 1);
    txn->PutProto(ChunkKey(op.old_handle()), old_chunk);
  } else {
    txn->Delete(ChunkKey(op.old_handle()));
  }
  proto::ChunkRecord copy;
  copy.set_handle(op.new_handle());
  copy.set_version(op.version());
  copy.set_inode_id(op.inode_id());
  copy.set_index(op.index());
  copy.set_refcount(1);
  txn->PutProto(ChunkKey(op.new_handle()), copy);
  std::string value;
  PutBigEndian64(&value, op.new_handle());
  txn->Put(FileChunkKey(op.inode_id(), op.index()), value);
  RaiseNextHandle(txn, op.new_handle());
  return ApplyResult{Status::OK(), {}};
}

}  // namespace

Result<std::vector<uint64_t>> CollectChunkHandles(MetaTxn* txn, const proto::InodeRecord& root) {
  std::vector<uint64_t> handles;
  std::vector<proto::InodeRecord> pending = {root};
  while (!pending.empty()) {
    proto::InodeRecord inode = std::move(pending.back());
    pending.pop_back();
    if (inode.type() == proto::FILE_TYPE_FILE) {
      GFS_ASSIGN_OR_RETURN(std::vector<proto::ChunkRecord> chunks,
                           ListFileChunks(txn, inode.id(), 0, 0));
      for (const proto::ChunkRecord& chunk : chunks) handles.push_back(chunk.handle());
      continue;
    }
    const std::string prefix = DentryPrefix(inode.id());
    std::vector<uint64_t> children;
    {
      std::unique_ptr<rocksdb::Iterator> it = txn->NewIterator();
      for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
        proto::DentryRecord child;
        if (!child.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
          return Status::DataLoss("a dentry does not parse");
        }
        children.push_back(child.inode_id());
      }
      if (!it->status().ok()) return FromRocksDb(it->status(), "scanning a directory");
    }
    for (uint64_t id : children) {
      GFS_ASSIGN_OR_RETURN(proto::InodeRecord child, GetInode(txn, id));
      pending.push_back(std::move(child));
    }
  }
  return handles;
}

Result<std::vector<proto::ChunkRecord>> ListFileChunks(MetaTxn* txn, uint64_t inode_id,
                                                       uint64_t first_index, uint64_t count) {
  std::vector<proto::ChunkRecord> chunks;
  const std::string prefix = FileChunkPrefix(inode_id);
  std::unique_ptr<rocksdb::Iterator> it = txn->NewIterator();
  for (it->Seek(FileChunkKey(inode_id, first_index)); it->Valid() && it->key().starts_with(prefix);
       it->Next()) {
    const uint64_t index = GetBigEndian64(it->key().data() + prefix.size());
    if (count != 0 && index >= first_index + count) break;
    if (it->value().size() != 8) {
      return Status::DataLoss("chunk entry of inode " + std::to_string(inode_id) + " is malformed");
    }
    proto::ChunkRecord chunk;
    Status s = txn->GetProto(ChunkKey(GetBigEndian64(it->value().data())), &chunk);
    if (s.IsNotFound()) {
      return Status::DataLoss("chunk " + std::to_string(index) + " of inode " +
                              std::to_string(inode_id) + " has no chunk record");
    }
    GFS_RETURN_IF_ERROR(s);
    // Where the chunk is in *this* file (a snapshot shares it with another).
    chunk.set_inode_id(inode_id);
    chunk.set_index(index);
    chunks.push_back(std::move(chunk));
  }
  if (!it->status().ok()) return FromRocksDb(it->status(), "listing a file's chunks");
  return chunks;
}

Result<std::optional<proto::ChunkRecord>> GetFileChunk(MetaTxn* txn, uint64_t inode_id,
                                                       uint64_t index) {
  GFS_ASSIGN_OR_RETURN(std::vector<proto::ChunkRecord> chunks,
                       ListFileChunks(txn, inode_id, index, 1));
  if (chunks.empty()) return std::optional<proto::ChunkRecord>();
  return std::optional<proto::ChunkRecord>(std::move(chunks.front()));
}

Result<proto::ChunkRecord> GetChunk(MetaTxn* txn, uint64_t handle) {
  proto::ChunkRecord chunk;
  Status s = txn->GetProto(ChunkKey(handle), &chunk);
  if (s.IsNotFound()) return Status::NotFound("chunk " + std::to_string(handle) + " is unknown");
  GFS_RETURN_IF_ERROR(s);
  return chunk;
}

Result<std::vector<proto::TrashRecord>> ListTrash(MetaTxn* txn, int64_t deleted_before_us,
                                                  size_t max_entries) {
  std::vector<proto::TrashRecord> out;
  const std::string prefix = TrashPrefix();
  std::unique_ptr<rocksdb::Iterator> it = txn->NewIterator();
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix) && out.size() < max_entries;
       it->Next()) {
    proto::TrashRecord trash;
    if (!trash.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return Status::DataLoss("a trash record does not parse");
    }
    if (trash.deleted_at_us() >= deleted_before_us) break;
    out.push_back(std::move(trash));
  }
  if (!it->status().ok()) return FromRocksDb(it->status(), "scanning the trash");
  return out;
}

uint64_t NextChunkHandle(MetaTxn* txn) {
  std::string value;
  if (!txn->Get(NextChunkHandleKey(), &value).ok() || value.size() != 8) return 1;
  return GetBigEndian64(value.data());
}

Result<proto::InodeRecord> ResolvePath(MetaTxn* txn, const std::string& path) {
  uint64_t id = kRootInodeId;
  std::string walked;
  for (const std::string& name : SplitPath(path)) {
    const std::string here = walked.empty() ? "/" : walked;
    walked = JoinPath(here, name);
    Result<proto::DentryRecord> dentry = GetDentry(txn, id, name);
    if (dentry.status().IsNotFound()) return Status::NotFound(walked + " does not exist");
    GFS_RETURN_IF_ERROR(dentry.status());
    if (walked.size() < path.size() && dentry->type() != proto::FILE_TYPE_DIRECTORY) {
      return Status::FailedPrecondition(walked + " is not a directory");
    }
    id = dentry->inode_id();
  }
  return GetInode(txn, id);
}

Result<proto::InodeRecord> ResolveLiveInode(MetaTxn* txn, uint64_t inode_id,
                                            const std::string& path) {
  proto::InodeRecord inode;
  Status s = txn->GetProto(InodeKey(inode_id), &inode);
  if (s.IsNotFound()) return Status::NotFound(path + " was deleted");
  GFS_RETURN_IF_ERROR(s);
  // In the namespace only while its own dentry points at it: a deleted inode waits in
  // the trash with a dangling name.
  if (inode.id() != kRootInodeId) {
    Result<proto::DentryRecord> dentry = GetDentry(txn, inode.parent_id(), inode.name());
    if (!dentry.ok() || dentry->inode_id() != inode_id) {
      return Status::NotFound(path + " was deleted");
    }
  }
  return inode;
}

proto::FileInfo ToFileInfo(const proto::InodeRecord& inode) {
  proto::FileInfo info;
  info.set_name(inode.name());
  info.set_type(inode.type());
  info.set_inode_id(inode.id());
  info.set_mtime_us(inode.mtime_us());
  info.set_replication(inode.replication());
  info.set_size(inode.size());
  info.set_chunk_size(inode.chunk_size());
  return info;
}

ApplyResult MasterStateMachine::Apply(const proto::LogEntry& entry, MetaTxn* txn) {
  switch (entry.op_case()) {
    case proto::LogEntry::kMkdir:
      return ApplyMkdir(entry, txn);
    case proto::LogEntry::kCreateFile:
      return ApplyCreateFile(entry, txn);
    case proto::LogEntry::kDelete:
      return ApplyDelete(entry, txn);
    case proto::LogEntry::kRename:
      return ApplyRename(entry, txn);
    case proto::LogEntry::kAddChunk:
      return ApplyAddChunk(entry, txn);
    case proto::LogEntry::kSetChunkVersion:
      return ApplySetChunkVersion(entry, txn);
    case proto::LogEntry::kExtendFile:
      return ApplyExtendFile(entry, txn);
    case proto::LogEntry::kUndelete:
      return ApplyUndelete(entry, txn);
    case proto::LogEntry::kPurge:
      return ApplyPurge(entry, txn);
    case proto::LogEntry::kSnapshot:
      return ApplySnapshot(entry, txn);
    case proto::LogEntry::kCopyOnWrite:
      return ApplyCopyOnWrite(entry, txn);
    case proto::LogEntry::kReserveHandles:
      if (entry.reserve_handles().up_to() == 0) {
        return Error(Status::InvalidArgument("reserving no handles"));
      }
      RaiseNextHandle(txn, entry.reserve_handles().up_to() - 1);
      return ApplyResult{Status::OK(), {}};
    case proto::LogEntry::OP_NOT_SET:
      break;
  }
  return Error(Status::InvalidArgument("log entry " + std::to_string(entry.index()) +
                                       " has no operation this master knows"));
}

void MasterStateMachine::Bootstrap(MetaTxn* txn) {
  proto::InodeRecord root;
  root.set_id(kRootInodeId);
  root.set_type(proto::FILE_TYPE_DIRECTORY);
  PutInode(txn, root);
  std::string next;
  PutBigEndian64(&next, kRootInodeId + 1);
  txn->Put(NextInodeIdKey(), next);
  std::string first_handle;
  PutBigEndian64(&first_handle, 1);
  txn->Put(NextChunkHandleKey(), first_handle);
}

}  // namespace gfs::master
