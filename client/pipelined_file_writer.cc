#include "client/pipelined_file_writer.h"

#include <algorithm>

namespace gfs::client {

using Clock = std::chrono::steady_clock;

PipelinedFileWriter::PipelinedFileWriter(std::string path, uint64_t inode_id, uint64_t chunk_size,
                                         uint64_t offset, std::shared_ptr<MasterChannel> master,
                                         std::shared_ptr<ChunkMutator> mutator,
                                         const ClientOptions& options)
    : path_(std::move(path)),
      inode_id_(inode_id),
      chunk_size_(chunk_size),
      master_(std::move(master)),
      mutator_(std::move(mutator)),
      options_(options),
      unit_bytes_(std::max<size_t>(options.write_unit_bytes, 1)),
      budget_bytes_(unit_bytes_ * static_cast<size_t>(std::max(options.parallel_chunks, 1))),
      max_workers_(static_cast<size_t>(std::max(options.parallel_chunks, 1))),
      position_(offset) {}

PipelinedFileWriter::~PipelinedFileWriter() {
  if (!closed_) StopWorkers(/*abandon=*/true);
}

std::chrono::milliseconds PipelinedFileWriter::ProgressTimeout() const {
  return options_.data_timeout + options_.operation_timeout + 2 * options_.rpc_timeout;
}

Status PipelinedFileWriter::Write(std::string_view data) {
  if (closed_) return Status::FailedPrecondition("write " + path_ + ": the writer is closed");
  {
    MutexLock lock(&mu_);
    if (!error_.ok()) return error_;
  }
  while (!data.empty()) {
    if (filling_.data.empty()) filling_.offset = position_;
    const uint64_t chunk_end = (position_ / chunk_size_ + 1) * chunk_size_;
    const uint64_t room =
        std::min<uint64_t>(unit_bytes_ - filling_.data.size(), chunk_end - position_);
    const size_t take = static_cast<size_t>(std::min<uint64_t>(room, data.size()));
    filling_.data.append(data.data(), take);
    data.remove_prefix(take);
    position_ += take;
    end_ = std::max(end_, position_);
    if (filling_.data.size() == unit_bytes_ || position_ == chunk_end) {
      GFS_RETURN_IF_ERROR(Enqueue(std::move(filling_)));
      filling_ = Unit();
    }
  }
  return Status::OK();
}

Status PipelinedFileWriter::Sync() {
  if (closed_) return Status::FailedPrecondition("sync " + path_ + ": the writer is closed");
  if (!filling_.data.empty()) {
    // The last unit of its chunk (units of a chunk run in order): it flushes the chunk
    // itself, saving a round of calls through every replica (small files: one of three).
    const uint64_t chunk = filling_.offset / chunk_size_;
    Unit last = std::move(filling_);
    last.flush = true;
    filling_ = Unit();
    dirty_.erase(chunk);
    if (workers_.empty()) {
      // Nothing was queued before (a small file): write it from this thread rather than
      // start a worker to wait for.
      GFS_RETURN_IF_ERROR(WriteHere(last));
    } else {
      GFS_RETURN_IF_ERROR(Enqueue(std::move(last)));
    }
  }
  for (uint64_t chunk : dirty_) {
    Unit flush;
    flush.offset = chunk * chunk_size_;
    flush.flush = true;
    GFS_RETURN_IF_ERROR(Enqueue(std::move(flush)));
  }
  dirty_.clear();
  GFS_RETURN_IF_ERROR(Drain());
  if (end_ > extended_) {
    proto::ExtendFileRequest req;
    req.set_path(path_);
    req.set_inode_id(inode_id_);
    req.set_length(end_);
    proto::ExtendFileResponse resp;
    GFS_RETURN_IF_ERROR(
        master_->Call("sync " + path_ + ": extend the file to " + std::to_string(end_) + " bytes",
                      [&](MasterChannel::Stub* stub, grpc::ClientContext* ctx) {
                        return stub->ExtendFile(ctx, req, &resp);
                      }));
    extended_ = end_;
  }
  return Status::OK();
}

Status PipelinedFileWriter::Close() {
  if (closed_) return close_status_;
  close_status_ = Sync();
  // After a failed Sync units may still be queued behind the failure: drop them.
  StopWorkers(/*abandon=*/!close_status_.ok());
  closed_ = true;
  return close_status_;
}

Status PipelinedFileWriter::Enqueue(Unit unit) {
  const uint64_t chunk = unit.offset / chunk_size_;
  const size_t bytes = unit.data.size();
  {
    MutexLock lock(&mu_);
    // Wait for room. The budget may be overrun by one unit when nothing is buffered,
    // which never happens since units are at most unit_bytes_.
    Clock::time_point deadline = Clock::now() + ProgressTimeout();
    size_t last_outstanding = outstanding_;
    while (error_.ok() && buffered_bytes_ > 0 && buffered_bytes_ + bytes > budget_bytes_) {
      done_cv_.WaitFor(std::chrono::milliseconds(500));
      if (outstanding_ != last_outstanding) {
        last_outstanding = outstanding_;
        deadline = Clock::now() + ProgressTimeout();
      } else if (Clock::now() >= deadline) {
        return Status::DeadlineExceeded("write " + path_ + " at offset " +
                                        std::to_string(unit.offset) + ": no progress");
      }
    }
    if (!error_.ok()) return error_;
    if (bytes > 0) dirty_.insert(chunk);
    queued_[chunk].push_back(std::move(unit));
    buffered_bytes_ += bytes;
    ++outstanding_;
    work_cv_.Signal();
  }
  if (workers_.size() < max_workers_) workers_.emplace_back([this] { WorkerLoop(); });
  return Status::OK();
}

Status PipelinedFileWriter::WriteHere(const Unit& unit) {
  const Status s = mutator_->Mutate(path_, inode_id_, chunk_size_, unit.offset, unit.data,
                                    unit.flush, &abandoned_);
  MutexLock lock(&mu_);
  if (!s.ok() && error_.ok()) error_ = s;
  return error_;
}

Status PipelinedFileWriter::Drain() {
  MutexLock lock(&mu_);
  Clock::time_point deadline = Clock::now() + ProgressTimeout();
  size_t last_outstanding = outstanding_;
  while (outstanding_ > 0) {
    done_cv_.WaitFor(std::chrono::milliseconds(500));
    if (outstanding_ != last_outstanding) {
      last_outstanding = outstanding_;
      deadline = Clock::now() + ProgressTimeout();
    } else if (Clock::now() >= deadline) {
      return Status::DeadlineExceeded("sync " + path_ + ": no progress");
    }
  }
  return error_;
}

void PipelinedFileWriter::WorkerLoop() {
  mu_.Lock();
  while (true) {
    auto it = std::find_if(queued_.begin(), queued_.end(),
                           [&](const auto& entry) { return busy_chunks_.count(entry.first) == 0; });
    if (it == queued_.end()) {
      if (stop_) break;
      work_cv_.WaitFor(std::chrono::seconds(1));
      continue;
    }
    const uint64_t chunk = it->first;
    Unit unit = std::move(it->second.front());
    it->second.pop_front();
    if (it->second.empty()) queued_.erase(it);
    busy_chunks_.insert(chunk);
    const bool skip = !error_.ok();  // the writer failed: later units are moot
    mu_.Unlock();

    Status s;
    if (!skip) {
      s = mutator_->Mutate(path_, inode_id_, chunk_size_, unit.offset, unit.data, unit.flush,
                           &abandoned_);
    }

    mu_.Lock();
    busy_chunks_.erase(chunk);
    buffered_bytes_ -= unit.data.size();
    --outstanding_;
    if (!s.ok() && error_.ok()) error_ = s;
    done_cv_.SignalAll();
    work_cv_.SignalAll();  // this chunk's next unit may go now
  }
  mu_.Unlock();
}

void PipelinedFileWriter::StopWorkers(bool abandon) {
  {
    MutexLock lock(&mu_);
    if (abandon) {
      abandoned_ = true;
      for (auto& entry : queued_) {
        for (const Unit& unit : entry.second) {
          buffered_bytes_ -= unit.data.size();
          --outstanding_;
        }
      }
      queued_.clear();
    }
    stop_ = true;
    work_cv_.SignalAll();
  }
  for (std::thread& t : workers_) t.join();
  workers_.clear();
}

}  // namespace gfs::client
