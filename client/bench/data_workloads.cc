#include "client/bench/data_workloads.h"

#include <fcntl.h>
#include <glog/logging.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <functional>
#include <mutex>
#include <random>
#include <thread>

#include "client/bench/cpu_usage.h"
#include "gfs/records.h"

namespace gfs::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Every kStampBytes of a file begin with 16 bytes: the file's tag and the block's offset.
constexpr size_t kStampBytes = 4096;
constexpr size_t kSmallFileBytes = 4096;

uint64_t Micros(SteadyClock::time_point from, SteadyClock::time_point to) {
  return std::chrono::duration_cast<std::chrono::microseconds>(to - from).count();
}

double SecondsSince(SteadyClock::time_point from) {
  return std::chrono::duration<double>(SteadyClock::now() - from).count();
}

uint64_t FileTag(const std::string& path) { return std::hash<std::string>()(path) | 1; }

// A buffer of random bytes (the stamps are written over it block by block).
std::string RandomBuffer(size_t n, uint64_t seed) {
  std::string buf(n, '\0');
  std::mt19937_64 rng(seed);
  for (size_t i = 0; i + 8 <= n; i += 8) {
    const uint64_t v = rng();
    std::memcpy(&buf[i], &v, 8);
  }
  return buf;
}

// Stamps the blocks of `buf`, which holds the file's bytes from `offset` (a multiple of
// kStampBytes) on.
void Stamp(char* buf, size_t n, uint64_t tag, uint64_t offset) {
  for (size_t i = 0; i + 16 <= n; i += kStampBytes) {
    const uint64_t at = offset + i;
    std::memcpy(buf + i, &tag, 8);
    std::memcpy(buf + i + 8, &at, 8);
  }
}

// Checks the stamps of the blocks of `buf` (the file's bytes from `offset`, a multiple
// of kStampBytes); logs the first mismatch of the process.
bool CheckStamps(const char* buf, size_t n, uint64_t tag, uint64_t offset,
                 const std::string& path) {
  for (size_t i = 0; i + 16 <= n; i += kStampBytes) {
    uint64_t got_tag, got_at;
    std::memcpy(&got_tag, buf + i, 8);
    std::memcpy(&got_at, buf + i + 8, 8);
    if (got_tag != tag || got_at != offset + i) {
      static std::once_flag logged;
      std::call_once(logged, [&] {
        LOG(ERROR) << "gfs-bench: " << path << " at offset " << offset + i
                   << ": wrong data (stamp tag " << got_tag << " offset " << got_at << ", expected "
                   << tag << " " << offset + i << ")";
      });
      return false;
    }
  }
  return true;
}

// Per-thread tallies of a run.
struct ThreadTally {
  LatencyRecorder latencies;
  uint64_t errors = 0;
  uint64_t bytes = 0;
};

// Runs `body(t, tally)` on `threads` threads and merges their tallies into a result
// timed from start to the last join; measures the daemons' and this process's CPU.
BenchResult RunThreads(const std::string& name, const DataBenchOptions& options,
                       const std::function<void(int, ThreadTally*)>& body) {
  std::vector<ThreadTally> tallies(options.threads);
  const double daemon_cpu_before = TotalCpuSeconds(options.daemon_pids);
  const double self_cpu_before = SelfCpuSeconds();
  const auto start = SteadyClock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < options.threads; ++t) {
    threads.emplace_back([&, t] { body(t, &tallies[t]); });
  }
  for (auto& thread : threads) thread.join();
  BenchResult result;
  result.workload = name;
  result.threads = options.threads;
  result.seconds = SecondsSince(start);
  const double daemon_cpu_after = TotalCpuSeconds(options.daemon_pids);
  if (daemon_cpu_before >= 0 && daemon_cpu_after >= 0) {
    result.daemon_cpu_seconds = daemon_cpu_after - daemon_cpu_before;
  }
  result.client_cpu_seconds = SelfCpuSeconds() - self_cpu_before;
  LatencyRecorder all;
  for (ThreadTally& tally : tallies) {
    all.Merge(tally.latencies);
    result.errors += tally.errors;
    result.bytes += tally.bytes;
  }
  result.ops = all.size();
  result.p50_us = all.Quantile(0.50);
  result.p99_us = all.Quantile(0.99);
  return result;
}

// The path of data file `index` of this size and replication.
std::string DataFile(const DataBenchOptions& options, int index) {
  return options.base_dir + "/data/s" + std::to_string(options.file_size_bytes) + "-r" +
         std::to_string(options.replication) + "-f" + std::to_string(index);
}

// Writes `path` (replacing it) with options.file_size_bytes of stamped data, in
// options.io_bytes Write calls; adds each call's latency and the bytes made durable to
// `tally`. Returns the first error.
//
// The data goes to a new file of a name never used before, which then replaces `path`
// (Delete + Rename), rather than Create(overwrite): the client caches write leases by
// path and chunk index, so a second writer on a re-created path of the same process
// would write into the deleted file's chunk (seen: the new file had its length but no
// chunk, and read as zeros).
Status WriteFile(Client* client, const std::string& path, const DataBenchOptions& options,
                 uint64_t seed, ThreadTally* tally) {
  static std::atomic<uint64_t> next_temp{0};
  const std::string temp =
      path + ".w" + std::to_string(getpid()) + "-" +
      std::to_string(std::chrono::system_clock::now().time_since_epoch().count()) + "-" +
      std::to_string(next_temp++);
  GFS_ASSIGN_OR_RETURN(std::unique_ptr<FileWriter> writer,
                       client->Create(temp, options.replication, /*overwrite=*/false));
  std::string buf = RandomBuffer(options.io_bytes, seed);
  // Stamped with the final path's tag: the file is read under that name.
  const uint64_t tag = FileTag(path);
  LatencyRecorder latencies;
  for (uint64_t offset = 0; offset < options.file_size_bytes; offset += options.io_bytes) {
    const size_t n = std::min<uint64_t>(options.io_bytes, options.file_size_bytes - offset);
    Stamp(buf.data(), n, tag, offset);
    const auto before = SteadyClock::now();
    GFS_RETURN_IF_ERROR(writer->Write(std::string_view(buf.data(), n)));
    latencies.Add(Micros(before, SteadyClock::now()));
  }
  GFS_RETURN_IF_ERROR(writer->Close());
  const Status deleted = client->Delete(path);
  if (!deleted.ok() && !deleted.IsNotFound()) return deleted;
  GFS_RETURN_IF_ERROR(client->Rename(temp, path));
  tally->latencies.Merge(latencies);
  tally->bytes += options.file_size_bytes;
  return Status::OK();
}

// Makes sure data files 0..n-1 exist with the options' size; writes those that do not
// (not timed).
Status EnsureDataFiles(Client* client, const DataBenchOptions& options, int n) {
  GFS_RETURN_IF_ERROR(client->Mkdir(options.base_dir + "/data", /*parents=*/true));
  std::vector<int> missing;
  for (int i = 0; i < n; ++i) {
    Result<FileInfo> info = client->Stat(DataFile(options, i));
    if (!info.ok() || info->size != options.file_size_bytes) missing.push_back(i);
  }
  std::vector<Status> statuses(missing.size());
  std::vector<std::thread> threads;
  for (size_t k = 0; k < missing.size(); ++k) {
    threads.emplace_back([&, k] {
      ThreadTally ignored;
      statuses[k] =
          WriteFile(client, DataFile(options, missing[k]), options, missing[k] + 1, &ignored);
    });
  }
  for (auto& thread : threads) thread.join();
  for (Status& s : statuses) GFS_RETURN_IF_ERROR(s);
  return Status::OK();
}

// Drops the page cache when asked to; returns what the result's note should say.
std::string MaybeDropCaches(const DataBenchOptions& options) {
  if (!options.drop_caches) {
    return "page cache not dropped: chunk files may be read from memory";
  }
  sync();
  const int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
  if (fd < 0 || write(fd, "3\n", 2) != 2) {
    if (fd >= 0) close(fd);
    return "page cache NOT dropped (needs root): chunk files may be read from memory";
  }
  close(fd);
  return "page cache dropped before the run (the VM host may still cache the disk)";
}

BenchResult RunWrite(Client* client, const DataBenchOptions& options) {
  BenchResult result = RunThreads("write", options, [&](int t, ThreadTally* tally) {
    const Status s = WriteFile(client, DataFile(options, t), options, t + 1, tally);
    if (!s.ok()) {
      LOG(ERROR) << "gfs-bench: write: " << s.ToString();
      ++tally->errors;
    }
  });
  result.note = "op = one " + std::to_string(options.io_bytes >> 10) +
                " KiB Write() call (back-pressure included); time includes Create, the "
                "durable Close and the rename into place; replication " +
                std::to_string(options.replication);
  return result;
}

BenchResult RunRead(Client* client, const DataBenchOptions& options, const std::string& note) {
  BenchResult result = RunThreads("read", options, [&](int t, ThreadTally* tally) {
    const std::string path = DataFile(options, t);
    Result<std::unique_ptr<FileReader>> reader = client->Open(path);
    if (!reader.ok()) {
      LOG(ERROR) << "gfs-bench: read: " << reader.status().ToString();
      ++tally->errors;
      return;
    }
    const uint64_t tag = FileTag(path);
    std::string buf(options.io_bytes, '\0');
    uint64_t offset = 0;
    while (true) {
      // One op: fill one io_bytes block (Read may return less per call).
      const auto before = SteadyClock::now();
      size_t filled = 0;
      while (filled < buf.size()) {
        Result<size_t> n = (*reader)->Read(buf.data() + filled, buf.size() - filled);
        if (!n.ok()) {
          LOG(ERROR) << "gfs-bench: read: " << n.status().ToString();
          ++tally->errors;
          return;
        }
        if (*n == 0) break;
        filled += *n;
      }
      if (filled == 0) break;
      tally->latencies.Add(Micros(before, SteadyClock::now()));
      if (!CheckStamps(buf.data(), filled, tag, offset, path)) {
        ++tally->errors;
        return;
      }
      offset += filled;
      tally->bytes += filled;
    }
    if (offset != options.file_size_bytes) {
      LOG(ERROR) << "gfs-bench: read " << path << ": got " << offset << " bytes, expected "
                 << options.file_size_bytes;
      ++tally->errors;
    }
  });
  result.note = "op = one " + std::to_string(options.io_bytes >> 10) + " KiB block; " + note;
  return result;
}

BenchResult RunRandomRead(Client* client, const DataBenchOptions& options, const std::string& name,
                          size_t block, const std::string& note) {
  const std::string path = DataFile(options, 0);
  const uint64_t blocks = std::max<uint64_t>(1, options.file_size_bytes / block);
  std::atomic<bool> stop{false};
  std::thread timer;
  std::atomic<int> ready{0};
  BenchResult result = RunThreads(name, options, [&](int t, ThreadTally* tally) {
    Result<std::unique_ptr<FileReader>> reader = client->Open(path);
    if (++ready == options.threads) {
      // The last thread to open starts the clock that stops all of them.
      timer = std::thread([&] {
        std::this_thread::sleep_for(options.duration);
        stop = true;
      });
    }
    if (!reader.ok()) {
      LOG(ERROR) << "gfs-bench: " << name << ": " << reader.status().ToString();
      ++tally->errors;
      return;
    }
    const uint64_t tag = FileTag(path);
    std::mt19937_64 rng(1000 + t);
    std::string buf(block, '\0');
    while (!stop.load(std::memory_order_relaxed)) {
      const uint64_t offset = (rng() % blocks) * block;
      const auto before = SteadyClock::now();
      Result<size_t> n = (*reader)->ReadAt(offset, buf.data(), block);
      const auto after = SteadyClock::now();
      if (!n.ok() || *n != std::min<uint64_t>(block, options.file_size_bytes - offset) ||
          !CheckStamps(buf.data(), *n, tag, offset, path)) {
        if (!n.ok()) {
          LOG_EVERY_N(ERROR, 100) << "gfs-bench: " << name << ": " << n.status().ToString();
        }
        ++tally->errors;
        continue;
      }
      tally->latencies.Add(Micros(before, after));
      tally->bytes += *n;
    }
  });
  if (timer.joinable()) timer.join();
  result.note = "op = one ReadAt of " + std::to_string(block >> 10) + " KiB in a " +
                std::to_string(options.file_size_bytes >> 20) + " MiB file; " + note;
  return result;
}

std::vector<BenchResult> RunSmallFiles(Client* client, const DataBenchOptions& options,
                                       const std::string& dir) {
  std::vector<std::vector<std::string>> created(options.threads);
  std::atomic<bool> stop{false};
  std::thread timer([&] {
    std::this_thread::sleep_for(options.duration);
    stop = true;
  });
  BenchResult create = RunThreads("smallfile_create", options, [&](int t, ThreadTally* tally) {
    const std::string thread_dir = dir + "/t" + std::to_string(t);
    std::string buf = RandomBuffer(kSmallFileBytes, 2000 + t);
    for (uint64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
      const std::string path = thread_dir + "/f" + std::to_string(i);
      Stamp(buf.data(), buf.size(), FileTag(path), 0);
      const auto before = SteadyClock::now();
      Status s;
      Result<std::unique_ptr<FileWriter>> writer =
          client->Create(path, options.replication, /*overwrite=*/false);
      if (!writer.ok()) {
        s = writer.status();
      } else {
        s = (*writer)->Write(buf);
        const Status closed = (*writer)->Close();
        if (s.ok()) s = closed;
      }
      const auto after = SteadyClock::now();
      if (!s.ok()) {
        LOG_EVERY_N(ERROR, 100) << "gfs-bench: smallfile_create: " << s.ToString();
        ++tally->errors;
        continue;
      }
      tally->latencies.Add(Micros(before, after));
      tally->bytes += buf.size();
      created[t].push_back(path);
    }
  });
  timer.join();
  create.note = "op = Create + Write 4 KiB + Close (durable on every replica), replication " +
                std::to_string(options.replication);

  BenchResult read = RunThreads("smallfile_read", options, [&](int t, ThreadTally* tally) {
    std::string buf(kSmallFileBytes + 1, '\0');
    for (const std::string& path : created[t]) {
      const auto before = SteadyClock::now();
      Result<std::unique_ptr<FileReader>> reader = client->Open(path);
      size_t filled = 0;
      Status s;
      if (!reader.ok()) {
        s = reader.status();
      } else {
        while (filled < buf.size()) {
          Result<size_t> n = (*reader)->Read(buf.data() + filled, buf.size() - filled);
          if (!n.ok()) {
            s = n.status();
            break;
          }
          if (*n == 0) break;
          filled += *n;
        }
      }
      const auto after = SteadyClock::now();
      if (!s.ok() || filled != kSmallFileBytes ||
          !CheckStamps(buf.data(), filled, FileTag(path), 0, path)) {
        if (!s.ok()) {
          LOG_EVERY_N(ERROR, 100) << "gfs-bench: smallfile_read: " << s.ToString();
        }
        ++tally->errors;
        continue;
      }
      tally->latencies.Add(Micros(before, after));
      tally->bytes += filled;
    }
  });
  read.note = "op = Open + Read 4 KiB of each file the create phase made";
  return {create, read};
}

BenchResult RunAppend(Client* client, const DataBenchOptions& options, const std::string& path) {
  std::atomic<bool> stop{false};
  std::thread timer([&] {
    std::this_thread::sleep_for(options.duration);
    stop = true;
  });
  std::atomic<uint64_t> acknowledged{0};
  BenchResult result = RunThreads("append", options, [&](int t, ThreadTally* tally) {
    RecordWriter writer(client, path);
    std::string payload = RandomBuffer(options.record_bytes, 3000 + t);
    while (!stop.load(std::memory_order_relaxed)) {
      const auto before = SteadyClock::now();
      Result<uint64_t> offset = writer.Append(payload);
      const auto after = SteadyClock::now();
      if (!offset.ok()) {
        LOG_EVERY_N(ERROR, 100) << "gfs-bench: append: " << offset.status().ToString();
        ++tally->errors;
        continue;
      }
      tally->latencies.Add(Micros(before, after));
      tally->bytes += payload.size();
      ++acknowledged;
    }
  });
  timer.join();
  // Every acknowledged record must be readable exactly once.
  RecordReader reader(client, path);
  std::string record;
  uint64_t read_back = 0;
  while (true) {
    Result<bool> more = reader.Next(&record);
    if (!more.ok()) {
      LOG(ERROR) << "gfs-bench: append: reading back: " << more.status().ToString();
      ++result.errors;
      break;
    }
    if (!*more) break;
    ++read_back;
  }
  if (read_back != acknowledged.load()) {
    LOG(ERROR) << "gfs-bench: append: " << acknowledged.load() << " records acknowledged, "
               << read_back << " read back";
    result.errors += read_back > acknowledged ? read_back - acknowledged : acknowledged - read_back;
  }
  result.note = "op = one record append of " + std::to_string(options.record_bytes >> 10) +
                " KiB to one shared file, replication " + std::to_string(options.replication) +
                "; all read back exactly once";
  return result;
}

}  // namespace

bool IsDataWorkload(const std::string& workload) {
  return workload == "write" || workload == "read" || workload == "randread_4k" ||
         workload == "randread_64k" || workload == "randread_1m" || workload == "smallfile" ||
         workload == "append";
}

Result<std::vector<BenchResult>> RunDataWorkload(Client* client, const std::string& workload,
                                                 const DataBenchOptions& options) {
  if (!IsDataWorkload(workload)) {
    return Status::InvalidArgument("unknown data workload '" + workload + "'");
  }
  if (options.io_bytes == 0 || options.io_bytes % kStampBytes != 0) {
    return Status::InvalidArgument("io size must be a positive multiple of 4 KiB");
  }
  if (options.file_size_bytes == 0) return Status::InvalidArgument("file size must be > 0");
  if (workload == "write") {
    GFS_RETURN_IF_ERROR(client->Mkdir(options.base_dir + "/data", /*parents=*/true));
    return std::vector<BenchResult>{RunWrite(client, options)};
  }
  if (workload == "read") {
    GFS_RETURN_IF_ERROR(EnsureDataFiles(client, options, options.threads));
    const std::string note = MaybeDropCaches(options);
    return std::vector<BenchResult>{RunRead(client, options, note)};
  }
  if (workload == "append") {
    if (options.record_bytes == 0) return Status::InvalidArgument("record size must be > 0");
    const std::string path =
        options.base_dir + "/append-" +
        std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
    GFS_RETURN_IF_ERROR(client->Mkdir(options.base_dir, /*parents=*/true));
    GFS_RETURN_IF_ERROR(client->CreateFile(path, options.replication).status());
    return std::vector<BenchResult>{RunAppend(client, options, path)};
  }
  if (workload == "smallfile") {
    const std::string dir =
        options.base_dir + "/small-" +
        std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
    for (int t = 0; t < options.threads; ++t) {
      GFS_RETURN_IF_ERROR(client->Mkdir(dir + "/t" + std::to_string(t), /*parents=*/true));
    }
    return RunSmallFiles(client, options, dir);
  }
  // randread_*
  const size_t block = workload == "randread_4k"    ? 4 << 10
                       : workload == "randread_64k" ? 64 << 10
                                                    : 1 << 20;
  if (options.file_size_bytes < block) {
    return Status::InvalidArgument(workload + ": --file_size_mb is smaller than one block");
  }
  GFS_RETURN_IF_ERROR(EnsureDataFiles(client, options, 1));
  const std::string note = MaybeDropCaches(options);
  return std::vector<BenchResult>{RunRandomRead(client, options, workload, block, note)};
}

}  // namespace gfs::bench
