// gfs::Client over gRPC: each namespace call is one MasterService RPC through the
// MasterChannel, which owns deadlines and retries.
#include "gfs/client.h"

#include "client/master_channel.h"

namespace gfs {
namespace {

using client::MasterChannel;

FileInfo FromProto(const proto::FileInfo& in) {
  FileInfo out;
  out.name = in.name();
  out.type = in.type() == proto::FILE_TYPE_DIRECTORY ? FileType::kDirectory : FileType::kFile;
  out.inode_id = in.inode_id();
  out.mtime_us = in.mtime_us();
  out.replication = in.replication();
  out.size = in.size();
  out.chunk_size = in.chunk_size();
  return out;
}

class GrpcClient final : public Client {
 public:
  explicit GrpcClient(std::unique_ptr<MasterChannel> channel) : channel_(std::move(channel)) {}

  Result<MasterPosition> Ping() override {
    proto::PingResponse resp;
    GFS_RETURN_IF_ERROR(
        channel_->Call("ping", [&](MasterChannel::Stub* stub, grpc::ClientContext* ctx) {
          return stub->Ping(ctx, proto::PingRequest(), &resp);
        }));
    return MasterPosition{resp.applied().epoch(), resp.applied().index()};
  }

  Result<MasterStatus> GetMasterStatus() override {
    proto::GetStatusResponse resp;
    GFS_RETURN_IF_ERROR(
        channel_->Call("status", [&](MasterChannel::Stub* stub, grpc::ClientContext* ctx) {
          return stub->GetStatus(ctx, proto::GetStatusRequest(), &resp);
        }));
    MasterStatus status;
    status.applied = {resp.applied().epoch(), resp.applied().index()};
    status.proposals = resp.proposals();
    status.logged_entries = resp.logged_entries();
    status.synced_writes = resp.synced_writes();
    return status;
  }

  Status Mkdir(const std::string& path, bool parents) override {
    proto::MkdirRequest req;
    req.set_path(path);
    req.set_parents(parents);
    proto::MkdirResponse resp;
    return channel_->Call("mkdir " + path,
                          [&](MasterChannel::Stub* stub, grpc::ClientContext* ctx) {
                            return stub->Mkdir(ctx, req, &resp);
                          });
  }

  Result<FileInfo> CreateFile(const std::string& path, uint32_t replication,
                              bool ok_if_exists) override {
    proto::CreateFileRequest req;
    req.set_path(path);
    req.set_replication(replication);
    req.set_ok_if_exists(ok_if_exists);
    proto::CreateFileResponse resp;
    GFS_RETURN_IF_ERROR(
        channel_->Call("create " + path, [&](MasterChannel::Stub* stub, grpc::ClientContext* ctx) {
          return stub->CreateFile(ctx, req, &resp);
        }));
    return FromProto(resp.info());
  }

  Result<FileInfo> Stat(const std::string& path) override {
    proto::StatRequest req;
    req.set_path(path);
    proto::StatResponse resp;
    GFS_RETURN_IF_ERROR(
        channel_->Call("stat " + path, [&](MasterChannel::Stub* stub, grpc::ClientContext* ctx) {
          return stub->Stat(ctx, req, &resp);
        }));
    return FromProto(resp.info());
  }

  Result<DirectoryPage> ListPage(const std::string& path, const std::string& start_after,
                                 uint32_t limit) override {
    proto::ListRequest req;
    req.set_path(path);
    req.set_start_after(start_after);
    req.set_limit(limit);
    proto::ListResponse resp;
    GFS_RETURN_IF_ERROR(
        channel_->Call("list " + path, [&](MasterChannel::Stub* stub, grpc::ClientContext* ctx) {
          resp.Clear();
          return stub->List(ctx, req, &resp);
        }));
    DirectoryPage page;
    page.entries.reserve(resp.entries_size());
    for (const proto::FileInfo& info : resp.entries()) page.entries.push_back(FromProto(info));
    page.has_more = resp.has_more();
    page.next_start_after = resp.next_start_after();
    return page;
  }

  Status ListEach(const std::string& path,
                  const std::function<bool(const FileInfo&)>& fn) override {
    std::string start_after;
    while (true) {
      GFS_ASSIGN_OR_RETURN(DirectoryPage page, ListPage(path, start_after, 0));
      for (const FileInfo& info : page.entries) {
        if (!fn(info)) return Status::OK();
      }
      if (!page.has_more) return Status::OK();
      start_after = page.next_start_after;
    }
  }

  Result<std::vector<FileInfo>> List(const std::string& path) override {
    std::vector<FileInfo> all;
    GFS_RETURN_IF_ERROR(ListEach(path, [&](const FileInfo& info) {
      all.push_back(info);
      return true;
    }));
    return all;
  }

  Status Delete(const std::string& path, bool recursive) override {
    proto::DeleteRequest req;
    req.set_path(path);
    req.set_recursive(recursive);
    proto::DeleteResponse resp;
    return channel_->Call("rm " + path, [&](MasterChannel::Stub* stub, grpc::ClientContext* ctx) {
      return stub->Delete(ctx, req, &resp);
    });
  }

  Status Rename(const std::string& src, const std::string& dst) override {
    proto::RenameRequest req;
    req.set_src(src);
    req.set_dst(dst);
    proto::RenameResponse resp;
    return channel_->Call("mv " + src + " " + dst,
                          [&](MasterChannel::Stub* stub, grpc::ClientContext* ctx) {
                            return stub->Rename(ctx, req, &resp);
                          });
  }

 private:
  const std::unique_ptr<MasterChannel> channel_;
};

}  // namespace

Result<std::unique_ptr<Client>> Client::Connect(const std::string& masters,
                                                const ClientOptions& options) {
  GFS_ASSIGN_OR_RETURN(std::unique_ptr<MasterChannel> channel,
                       MasterChannel::Create(masters, options));
  return std::unique_ptr<Client>(new GrpcClient(std::move(channel)));
}

}  // namespace gfs
