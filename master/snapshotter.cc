#include "master/snapshotter.h"

#include <algorithm>

#include "common/path.h"
#include "master/meta_txn.h"
#include "master/state_machine.h"

namespace gfs::master {

Status Snapshotter::Snapshot(const std::string& src, const std::string& dst) {
  GFS_RETURN_IF_ERROR(ValidatePath(src));
  GFS_RETURN_IF_ERROR(ValidatePath(dst));
  // A writer may add a chunk to the tree between collecting its chunks and logging the
  // snapshot; the log entry then refuses (Aborted) and this starts over.
  Status s;
  for (int attempt = 0; attempt < 5; ++attempt) {
    std::vector<uint64_t> handles;
    {
      MetaTxn txn(log_->db(), log_->durable_snapshot());
      GFS_ASSIGN_OR_RETURN(proto::InodeRecord root, ResolvePath(&txn, src));
      GFS_ASSIGN_OR_RETURN(handles, CollectChunkHandles(&txn, root));
    }
    std::sort(handles.begin(), handles.end());
    handles.erase(std::unique(handles.begin(), handles.end()), handles.end());
    GFS_RETURN_IF_ERROR(chunks_->FreezeForSnapshot(handles).Prepend("snapshot " + src));
    s = ns_->Snapshot(src, dst, handles);
    chunks_->Unfreeze(handles);
    if (s.code() != StatusCode::kAborted) return s;
  }
  return Status::Unavailable(s.message() + "; retry");
}

}  // namespace gfs::master
