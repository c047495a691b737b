#include "master/snapshotter.h"

#include <algorithm>

#include "common/path.h"
#include "master/meta_txn.h"
#include "master/state_machine.h"

namespace gfs::master {

Status Snapshotter::Snapshot(const std::string& src, const std::string& dst) {
  GFS_RETURN_IF_ERROR(ValidatePath(src));
  GFS_RETURN_IF_ERROR(ValidatePath(dst));
  std::vector<uint64_t> handles;
  {
    MetaTxn txn(log_->db(), MetaTxn::Mode::kReadOnlySnapshot);
    GFS_ASSIGN_OR_RETURN(proto::InodeRecord root, ResolvePath(&txn, src));
    GFS_ASSIGN_OR_RETURN(handles, CollectChunkHandles(&txn, root));
  }
  std::sort(handles.begin(), handles.end());
  handles.erase(std::unique(handles.begin(), handles.end()), handles.end());
  GFS_RETURN_IF_ERROR(chunks_->FreezeForSnapshot(handles).Prepend("snapshot " + src));
  Status s = ns_->Snapshot(src, dst);
  chunks_->Unfreeze(handles);
  return s;
}

}  // namespace gfs::master
