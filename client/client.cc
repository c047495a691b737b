// gfs::Client over gRPC: each namespace call is one MasterService RPC through the
// MasterChannel, which owns deadlines and retries. Data moves through
// PipelinedFileWriter and ReadAheadFileReader, straight to the chunkservers.
#include "gfs/client.h"

#include <algorithm>
#include <map>

#include "client/chunk_mutator.h"
#include "client/chunkserver_pool.h"
#include "client/master_channel.h"
#include "client/pipelined_file_writer.h"
#include "client/read_ahead_file_reader.h"
#include "common/mutex.h"

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

ChunkLocation FromProto(const proto::ChunkLocation& in) {
  ChunkLocation out;
  out.index = in.index();
  out.handle = in.handle();
  out.version = in.version();
  out.replicas.assign(in.replicas().begin(), in.replicas().end());
  out.primary = in.primary();
  out.corrupt_replicas.assign(in.corrupt_replicas().begin(), in.corrupt_replicas().end());
  return out;
}

class GrpcClient final : public Client {
 public:
  // `lease_channel` reaches the same masters with a short retry budget: the data path
  // retries GetWriteLease itself within ClientOptions::data_timeout.
  GrpcClient(std::shared_ptr<MasterChannel> channel, std::shared_ptr<MasterChannel> lease_channel,
             const ClientOptions& options)
      : options_(options),
        channel_(std::move(channel)),
        chunkservers_(std::make_shared<client::ChunkServerPool>()),
        mutator_(std::make_shared<client::ChunkMutator>(std::move(lease_channel), chunkservers_,
                                                        options)) {}

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

  Result<std::vector<ChunkServerInfo>> ListChunkServers() override {
    proto::ListChunkServersResponse resp;
    GFS_RETURN_IF_ERROR(channel_->Call(
        "list chunkservers", [&](MasterChannel::Stub* stub, grpc::ClientContext* ctx) {
          resp.Clear();
          return stub->ListChunkServers(ctx, proto::ListChunkServersRequest(), &resp);
        }));
    std::vector<ChunkServerInfo> servers;
    for (const proto::ChunkServerInfo& in : resp.servers()) {
      ChunkServerInfo out;
      out.address = in.address();
      out.rack = in.rack();
      out.alive = in.alive();
      out.chunks = in.chunks();
      out.used_bytes = in.used_bytes();
      out.capacity_bytes = in.capacity_bytes();
      out.last_heartbeat_ms_ago = in.last_heartbeat_ms_ago();
      servers.push_back(std::move(out));
    }
    return servers;
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

  Status Snapshot(const std::string& src, const std::string& dst) override {
    proto::SnapshotRequest req;
    req.set_src(src);
    req.set_dst(dst);
    proto::SnapshotResponse resp;
    return channel_->Call("snapshot " + src + " " + dst,
                          [&](MasterChannel::Stub* stub, grpc::ClientContext* ctx) {
                            return stub->Snapshot(ctx, req, &resp);
                          });
  }

  Status Undelete(const std::string& path) override {
    proto::UndeleteRequest req;
    req.set_path(path);
    proto::UndeleteResponse resp;
    return channel_->Call("undelete " + path,
                          [&](MasterChannel::Stub* stub, grpc::ClientContext* ctx) {
                            return stub->Undelete(ctx, req, &resp);
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

  Result<std::vector<ChunkLocation>> GetChunkLocations(const std::string& path) override {
    proto::GetChunkLocationsRequest req;
    req.set_path(path);
    req.set_first_index(0);
    req.set_count(0);  // all
    proto::GetChunkLocationsResponse resp;
    GFS_RETURN_IF_ERROR(channel_->Call("chunks of " + path,
                                       [&](MasterChannel::Stub* stub, grpc::ClientContext* ctx) {
                                         resp.Clear();
                                         return stub->GetChunkLocations(ctx, req, &resp);
                                       }));
    if (resp.info().type() == proto::FILE_TYPE_DIRECTORY) {
      return Status::FailedPrecondition(path + " is a directory");
    }
    std::vector<ChunkLocation> chunks;
    chunks.reserve(resp.chunks_size());
    for (const proto::ChunkLocation& chunk : resp.chunks()) chunks.push_back(FromProto(chunk));
    std::sort(chunks.begin(), chunks.end(),
              [](const ChunkLocation& a, const ChunkLocation& b) { return a.index < b.index; });
    return chunks;
  }

  Result<uint64_t> Append(const std::string& path, std::string_view record) override {
    GFS_ASSIGN_OR_RETURN(FileInfo info, Stat(path));
    if (info.is_directory()) return Status::FailedPrecondition("append " + path + ": a directory");
    if (record.empty() || info.chunk_size == 0 || record.size() > info.chunk_size / 4) {
      return Status::InvalidArgument("append " + path + ": a record of " +
                                     std::to_string(record.size()) +
                                     " bytes; records are 1 byte to a quarter of the chunk size (" +
                                     std::to_string(info.chunk_size / 4) + " bytes)");
    }
    // Start at the chunk the file's length points into (or where this client last
    // appended, if further): full chunks answer chunk_full and the record moves on.
    uint64_t index = info.size == 0 ? 0 : (info.size - 1) / info.chunk_size;
    {
      MutexLock lock(&append_mu_);
      auto it = append_index_.find(info.inode_id);
      if (it != append_index_.end()) index = std::max(index, it->second);
    }
    while (true) {
      GFS_ASSIGN_OR_RETURN(client::ChunkMutator::AppendOutcome outcome,
                           mutator_->Append(path, info.inode_id, index, record));
      if (outcome.chunk_full) {
        ++index;
        continue;
      }
      {
        MutexLock lock(&append_mu_);
        if (append_index_.size() >= 1024) append_index_.clear();  // bounded; a hint only
        append_index_[info.inode_id] = index;
      }
      const uint64_t offset = index * info.chunk_size + outcome.offset;
      proto::ExtendFileRequest req;
      req.set_path(path);
      req.set_inode_id(info.inode_id);
      req.set_length(offset + record.size());
      proto::ExtendFileResponse resp;
      GFS_RETURN_IF_ERROR(channel_->Call("append " + path,
                                         [&](MasterChannel::Stub* stub, grpc::ClientContext* ctx) {
                                           return stub->ExtendFile(ctx, req, &resp);
                                         }));
      return offset;
    }
  }

  Result<std::unique_ptr<FileWriter>> Create(const std::string& path, uint32_t replication,
                                             bool overwrite) override {
    if (overwrite) {
      Result<FileInfo> existing = Stat(path);
      if (existing.ok()) {
        if (existing->is_directory()) {
          return Status::AlreadyExists(path + " is a directory");
        }
        const Status s = Delete(path, /*recursive=*/false);
        if (!s.ok() && !s.IsNotFound()) return s;
      } else if (!existing.status().IsNotFound()) {
        return existing.status();
      }
    }
    GFS_ASSIGN_OR_RETURN(FileInfo info, CreateFile(path, replication, /*ok_if_exists=*/false));
    return NewWriter(path, info, 0);
  }

  Result<std::unique_ptr<FileWriter>> OpenForWrite(const std::string& path,
                                                   uint64_t offset) override {
    GFS_ASSIGN_OR_RETURN(FileInfo info, Stat(path));
    if (info.is_directory()) return Status::FailedPrecondition(path + " is a directory");
    return NewWriter(path, info, offset);
  }

  Result<std::unique_ptr<FileReader>> Open(const std::string& path) override {
    GFS_ASSIGN_OR_RETURN(
        std::unique_ptr<client::ReadAheadFileReader> reader,
        client::ReadAheadFileReader::Open(path, channel_, chunkservers_, options_));
    return std::unique_ptr<FileReader>(std::move(reader));
  }

 private:
  Result<std::unique_ptr<FileWriter>> NewWriter(const std::string& path, const FileInfo& info,
                                                uint64_t offset) {
    if (info.chunk_size == 0) {
      return Status::Internal(path + ": the master gave chunk size 0");
    }
    return std::unique_ptr<FileWriter>(new client::PipelinedFileWriter(
        path, info.inode_id, info.chunk_size, offset, channel_, mutator_, options_));
  }

  const ClientOptions options_;
  // Shared with the writers and readers, which may outlive this client.
  const std::shared_ptr<MasterChannel> channel_;
  const std::shared_ptr<client::ChunkServerPool> chunkservers_;
  const std::shared_ptr<client::ChunkMutator> mutator_;
  // Per file (inode), the chunk this client last appended to: where the next append
  // starts.
  Mutex append_mu_;
  std::map<uint64_t, uint64_t> append_index_ GUARDED_BY(append_mu_);
};

}  // namespace

Result<std::unique_ptr<Client>> Client::Connect(const std::string& masters,
                                                const ClientOptions& options) {
  GFS_ASSIGN_OR_RETURN(std::unique_ptr<MasterChannel> channel,
                       MasterChannel::Create(masters, options));
  ClientOptions lease_options = options;
  lease_options.operation_timeout = std::min(options.operation_timeout, options.rpc_timeout);
  GFS_ASSIGN_OR_RETURN(std::unique_ptr<MasterChannel> lease_channel,
                       MasterChannel::Create(masters, lease_options));
  return std::unique_ptr<Client>(
      new GrpcClient(std::move(channel), std::move(lease_channel), options));
}

Status Client::WriteAt(const std::string& path, uint64_t offset, std::string_view data) {
  GFS_ASSIGN_OR_RETURN(std::unique_ptr<FileWriter> writer, OpenForWrite(path, offset));
  GFS_RETURN_IF_ERROR(writer->Write(data));
  return writer->Close();
}

Result<std::string> Client::ReadAt(const std::string& path, uint64_t offset, size_t length) {
  GFS_ASSIGN_OR_RETURN(std::unique_ptr<FileReader> reader, Open(path));
  if (offset >= reader->size()) return std::string();
  std::string data(static_cast<size_t>(std::min<uint64_t>(length, reader->size() - offset)), '\0');
  GFS_ASSIGN_OR_RETURN(size_t n, reader->ReadAt(offset, data.data(), data.size()));
  data.resize(n);
  return data;
}

}  // namespace gfs
