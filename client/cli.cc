#include "client/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iomanip>
#include <iostream>
#include <map>
#include <string_view>

#include "common/path.h"

namespace gfs::cli {
namespace {

constexpr char kToolUsage[] = "usage: gfs [--master=HOST:PORT[,...]] COMMAND [ARGS]";
constexpr char kToolUsageWithHint[] =
    "usage: gfs [--master=HOST:PORT[,...]] COMMAND [ARGS]\n"
    "Run 'gfs --help' to list the commands.";

// Commands of SPEC.md that later milestones build; named so users get a clear answer.

// Bytes moved per read of the local file or of the remote one by put, get and cat.
constexpr size_t kCopyBufferBytes = 8 << 20;

// An option of one command. Every option has a long name, which is also the key a
// command asks for; `short_name` is 0 when there is no one-letter form. An option with
// a `value_name` takes a positive integer ("-r 2", "-r2", "--replication=2",
// "--replication 2"); the others are boolean.
struct OptionSpec {
  char short_name;
  const char* long_name;
  const char* help;
  const char* value_name = nullptr;
};

// The parsed arguments of one command: the options given and the operands, in order.
struct Invocation {
  std::vector<std::string> options;        // long names
  std::map<std::string, uint64_t> values;  // long name -> value, for options with one
  std::vector<std::string> operands;
  bool help = false;

  bool Has(std::string_view long_name) const {
    return std::find(options.begin(), options.end(), long_name) != options.end();
  }
  // The value of option `long_name`, or `fallback` when it was not given.
  uint64_t Value(const std::string& long_name, uint64_t fallback) const {
    auto it = values.find(long_name);
    return it == values.end() ? fallback : it->second;
  }
};

// What a command runs with.
struct Env {
  Client& client;
  std::istream& in;
  std::ostream& out;
  std::ostream& err;

  // Reports that the operation on `what` ("mkdir /a") failed; returns kExitFailed.
  int Fail(const std::string& what, const Status& status) {
    err << "gfs: " << what << ": " << status.ToString() << "\n";
    return kExitFailed;
  }
};

struct CommandSpec {
  const char* name;
  const char* args;     // after the name in the usage line, e.g. "[-p] PATH..."
  const char* summary;  // one line for the overview
  const char* details;  // the paragraph of `gfs COMMAND --help`
  std::vector<OptionSpec> options;
  size_t min_operands;
  size_t max_operands;
  int (*run)(Env& env, const Invocation& inv);
};

// ---- Output formatting ----

// ISO-8601 UTC with second precision, e.g. "2026-11-27T12:00:00Z".
std::string FormatTime(int64_t mtime_us) {
  int64_t seconds = mtime_us / 1000000;
  if (mtime_us % 1000000 < 0) --seconds;  // round toward the past, as for positive times
  const time_t t = static_cast<time_t>(seconds);
  struct tm tm;
  char buf[64];
  if (gmtime_r(&t, &tm) == nullptr || strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
    return "?";
  }
  return buf;
}

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is not one (overlong
// forms, surrogates and code points past U+10FFFF are invalid).
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t n;
  unsigned char lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  const auto c1 = static_cast<unsigned char>(s[i + 1]);
  if (c1 < lo || c1 > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  }
  return n;
}

// `s` as a JSON string literal. Paths may hold any byte but NUL, and JSON text must be
// UTF-8, so bytes that are not valid UTF-8 become U+FFFD.
std::string JsonString(std::string_view s) {
  std::string json = "\"";
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const size_t n = Utf8SequenceLength(s, i);
      if (n == 0) {
        json += "\\ufffd";
        ++i;
      } else {
        json.append(s.substr(i, n));
        i += n;
      }
      continue;
    }
    if (c == '"' || c == '\\') {
      json += '\\';
      json += static_cast<char>(c);
    } else if (c == '\n') {
      json += "\\n";
    } else if (c == '\t') {
      json += "\\t";
    } else if (c < 0x20) {
      char buf[8];
      snprintf(buf, sizeof(buf), "\\u%04x", c);
      json += buf;
    } else {
      json += static_cast<char>(c);
    }
    ++i;
  }
  return json + "\"";
}

// One line of `ls`: the name (directories with a trailing '/'), or with `long_format`
// "TYPE REPLICATION SIZE MTIME NAME", where directories show replication "-", size 0.
void PrintEntry(std::ostream& out, const FileInfo& info, const std::string& name,
                bool long_format) {
  if (!long_format) {
    out << name << (info.is_directory() ? "/" : "") << "\n";
    return;
  }
  const bool dir = info.is_directory();
  out << (dir ? 'd' : '-') << ' ' << std::setw(3)
      << (dir ? std::string("-") : std::to_string(info.replication)) << ' ' << std::setw(12)
      << (dir ? 0 : info.size) << ' ' << FormatTime(info.mtime_us) << ' ' << name << "\n";
}

// ---- Commands ----

int RunMkdir(Env& env, const Invocation& inv) {
  int code = kExitOk;
  for (const std::string& path : inv.operands) {
    const Status s = env.client.Mkdir(path, inv.Has("parents"));
    if (!s.ok()) code = env.Fail("mkdir " + path, s);
  }
  return code;
}

int RunTouch(Env& env, const Invocation& inv) {
  int code = kExitOk;
  for (const std::string& path : inv.operands) {
    const Result<FileInfo> r = env.client.CreateFile(path, /*replication=*/0,
                                                     /*ok_if_exists=*/true);
    if (!r.ok()) code = env.Fail("touch " + path, r.status());
  }
  return code;
}

int RunRm(Env& env, const Invocation& inv) {
  int code = kExitOk;
  for (const std::string& path : inv.operands) {
    const Status s = env.client.Delete(path, inv.Has("recursive"));
    if (!s.ok()) code = env.Fail("rm " + path, s);
  }
  return code;
}

int RunMv(Env& env, const Invocation& inv) {
  const std::string& src = inv.operands[0];
  const std::string& dst = inv.operands[1];
  const Status s = env.client.Rename(src, dst);
  return s.ok() ? kExitOk : env.Fail("mv " + src + " " + dst, s);
}

int RunLs(Env& env, const Invocation& inv) {
  const std::string root = inv.operands.empty() ? "/" : inv.operands[0];
  const bool long_format = inv.Has("long");
  const bool recursive = inv.Has("recursive");
  const Result<FileInfo> info = env.client.Stat(root);
  if (!info.ok()) return env.Fail("ls " + root, info.status());
  if (!info->is_directory()) {
    PrintEntry(env.out, *info, root, long_format);
    return kExitOk;
  }
  // Depth-first and in name order, like coreutils `ls -R`. Entries stream out page by
  // page; only the paths of subdirectories still to visit are held.
  int code = kExitOk;
  std::vector<std::string> pending = {root};  // the next directory is at the back
  bool first = true;
  while (!pending.empty()) {
    const std::string dir = std::move(pending.back());
    pending.pop_back();
    if (recursive) env.out << (first ? "" : "\n") << dir << ":\n";
    first = false;
    std::vector<std::string> subdirs;
    const Status s = env.client.ListEach(dir, [&](const FileInfo& entry) {
      PrintEntry(env.out, entry, entry.name, long_format);
      if (recursive && entry.is_directory()) subdirs.push_back(JoinPath(dir, entry.name));
      return static_cast<bool>(env.out);  // stop early if nobody reads any more
    });
    if (!s.ok()) code = env.Fail("ls " + dir, s);
    pending.insert(pending.end(), subdirs.rbegin(), subdirs.rend());
  }
  return code;
}

// "0x" and 16 hex digits.
std::string FormatHandle(uint64_t handle) {
  char buf[32];
  snprintf(buf, sizeof(buf), "0x%016llx", static_cast<unsigned long long>(handle));
  return buf;
}

int RunStat(Env& env, const Invocation& inv) {
  const std::string& path = inv.operands[0];
  const Result<FileInfo> r = env.client.Stat(path);
  if (!r.ok()) return env.Fail("stat " + path, r.status());
  const FileInfo& info = *r;
  const char* type = info.is_directory() ? "dir" : "file";
  std::vector<ChunkLocation> chunks;
  if (!info.is_directory()) {
    Result<std::vector<ChunkLocation>> located = env.client.GetChunkLocations(path);
    if (!located.ok()) return env.Fail("stat " + path, located.status());
    chunks = std::move(located).value();
  }
  if (inv.Has("json")) {
    env.out << "{\"path\":" << JsonString(path) << ",\"type\":\"" << type
            << "\",\"size\":" << info.size << ",\"replication\":" << info.replication
            << ",\"chunk_size\":" << info.chunk_size << ",\"mtime\":\"" << FormatTime(info.mtime_us)
            << "\",\"mtime_us\":" << info.mtime_us << ",\"inode\":" << info.inode_id
            << ",\"chunks\":[";
    for (size_t i = 0; i < chunks.size(); ++i) {
      const ChunkLocation& chunk = chunks[i];
      env.out << (i == 0 ? "" : ",") << "{\"index\":" << chunk.index
              << ",\"handle\":" << chunk.handle << ",\"version\":" << chunk.version
              << ",\"replicas\":[";
      for (size_t k = 0; k < chunk.replicas.size(); ++k) {
        env.out << (k == 0 ? "" : ",") << JsonString(chunk.replicas[k]);
      }
      env.out << "],\"primary\":" << JsonString(chunk.primary) << "}";
    }
    env.out << "]}\n";
    return kExitOk;
  }
  env.out << "path: " << path << "\n"
          << "type: " << type << "\n";
  if (!info.is_directory()) {
    env.out << "size: " << info.size << "\n"
            << "replication: " << info.replication << "\n"
            << "chunk_size: " << info.chunk_size << "\n";
  }
  env.out << "mtime: " << FormatTime(info.mtime_us) << "\n"
          << "inode: " << info.inode_id << "\n";
  // One line per chunk: "chunk INDEX: handle H version V replicas A,B,C primary P".
  for (const ChunkLocation& chunk : chunks) {
    env.out << "chunk " << chunk.index << ": handle " << FormatHandle(chunk.handle) << " version "
            << chunk.version << " replicas ";
    for (size_t k = 0; k < chunk.replicas.size(); ++k) {
      env.out << (k == 0 ? "" : ",") << chunk.replicas[k];
    }
    if (chunk.replicas.empty()) env.out << "-";
    env.out << " primary " << (chunk.primary.empty() ? "-" : chunk.primary) << "\n";
  }
  return kExitOk;
}

// Reads up to `n` bytes of `fd` into `buf`, fewer only at its end. Returns the count.
Result<size_t> ReadFull(int fd, char* buf, size_t n, const std::string& name) {
  size_t got = 0;
  while (got < n) {
    const ssize_t r = read(fd, buf + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return Status::IOError("read " + name, errno);
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  return got;
}

Status WriteFull(int fd, const char* buf, size_t n, const std::string& name) {
  while (n > 0) {
    const ssize_t w = write(fd, buf, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return Status::IOError("write " + name, errno);
    buf += w;
    n -= static_cast<size_t>(w);
  }
  return Status::OK();
}

// Streams `local` (or the tool's input for "-") into `writer` and closes it.
Status Upload(Env& env, const std::string& local, int fd, FileWriter& writer) {
  std::vector<char> buf(kCopyBufferBytes);
  while (true) {
    size_t n = 0;
    if (fd < 0) {
      env.in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
      n = static_cast<size_t>(env.in.gcount());
      if (env.in.bad()) return Status::IOError("read standard input", EIO);
    } else {
      GFS_ASSIGN_OR_RETURN(n, ReadFull(fd, buf.data(), buf.size(), local));
    }
    if (n == 0) break;
    GFS_RETURN_IF_ERROR(writer.Write(std::string_view(buf.data(), n)));
  }
  return writer.Close();
}

int RunPut(Env& env, const Invocation& inv) {
  const std::string& local = inv.operands[0];
  const std::string& remote = inv.operands[1];
  const std::string what = "put " + remote;
  int fd = -1;  // -1: the tool's input
  if (local != "-") {
    fd = open(local.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return env.Fail(what, Status::IOError("open " + local, errno));
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
      close(fd);
      return env.Fail(what, Status::InvalidArgument(local + " is a directory"));
    }
  }
  Result<std::unique_ptr<FileWriter>> writer = env.client.Create(
      remote, static_cast<uint32_t>(inv.Value("replication", 0)), inv.Has("force"));
  Status s = writer.status();
  if (s.ok()) {
    s = Upload(env, local, fd, **writer);
    writer->reset();  // stop its threads before the clean-up below
    // Do not leave a partial file that looks like a whole one.
    if (!s.ok()) (void)env.client.Delete(remote, /*recursive=*/false);
  }
  if (fd >= 0) close(fd);
  return s.ok() ? kExitOk : env.Fail(what, s);
}

// Streams remote file `reader` to `fd`, or to the tool's output when fd is -1.
Status Download(Env& env, FileReader& reader, int fd, const std::string& local) {
  std::vector<char> buf(kCopyBufferBytes);
  while (true) {
    GFS_ASSIGN_OR_RETURN(size_t n, reader.Read(buf.data(), buf.size()));
    if (n == 0) return Status::OK();
    if (fd >= 0) {
      GFS_RETURN_IF_ERROR(WriteFull(fd, buf.data(), n, local));
    } else if (!env.out.write(buf.data(), static_cast<std::streamsize>(n))) {
      return Status::IOError("write standard output", EIO);
    }
  }
}

int RunGet(Env& env, const Invocation& inv) {
  const std::string& remote = inv.operands[0];
  const std::string& local = inv.operands[1];
  const std::string what = "get " + remote;
  // Open the remote file first: a missing one must not truncate LOCAL.
  Result<std::unique_ptr<FileReader>> reader = env.client.Open(remote);
  if (!reader.ok()) return env.Fail(what, reader.status());
  if (local == "-") {
    const Status s = Download(env, **reader, -1, "");
    return s.ok() ? kExitOk : env.Fail(what, s);
  }
  const int fd = open(local.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return env.Fail(what, Status::IOError("open " + local, errno));
  Status s = Download(env, **reader, fd, local);
  struct stat st;
  const bool regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  if (close(fd) != 0 && s.ok()) s = Status::IOError("close " + local, errno);
  if (!s.ok() && regular) unlink(local.c_str());  // no partial copy left behind
  return s.ok() ? kExitOk : env.Fail(what, s);
}

int RunCat(Env& env, const Invocation& inv) {
  int code = kExitOk;
  for (const std::string& remote : inv.operands) {
    Result<std::unique_ptr<FileReader>> reader = env.client.Open(remote);
    Status s = reader.status();
    if (s.ok()) s = Download(env, **reader, -1, "");
    if (!s.ok()) code = env.Fail("cat " + remote, s);
  }
  return code;
}

// The whole of `local` (or the tool's input for "-"), at most `limit` bytes.
Result<std::string> ReadAllLocal(Env& env, const std::string& local, size_t limit) {
  std::string data;
  std::vector<char> buf(kCopyBufferBytes);
  int fd = -1;
  if (local != "-") {
    fd = open(local.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::IOError("open " + local, errno);
  }
  Status s;
  while (s.ok()) {
    size_t n = 0;
    if (fd < 0) {
      env.in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
      n = static_cast<size_t>(env.in.gcount());
      if (env.in.bad()) s = Status::IOError("read standard input", EIO);
    } else {
      Result<size_t> got = ReadFull(fd, buf.data(), buf.size(), local);
      if (got.ok()) n = *got;
      s = got.status();
    }
    if (!s.ok() || n == 0) break;
    if (data.size() + n > limit) {
      s = Status::InvalidArgument(local + " holds more than " + std::to_string(limit) +
                                  " bytes, too much for one record");
      break;
    }
    data.append(buf.data(), n);
  }
  if (fd >= 0) close(fd);
  if (!s.ok()) return s;
  return data;
}

// `gfs admin report`: the chunkservers as the master sees them.
int RunAdminReport(Env& env) {
  Result<std::vector<ChunkServerInfo>> servers = env.client.ListChunkServers();
  if (!servers.ok()) return env.Fail("admin report", servers.status());
  char line[256];
  std::snprintf(line, sizeof(line), "%-24s %-12s %-5s %8s %14s %14s %10s\n", "address", "rack",
                "state", "chunks", "used_bytes", "capacity", "heartbeat");
  env.out << line;
  size_t live = 0;
  for (const ChunkServerInfo& s : *servers) {
    live += s.alive ? 1 : 0;
    const std::string ago = std::to_string(s.last_heartbeat_ms_ago) + "ms";
    std::snprintf(line, sizeof(line), "%-24s %-12s %-5s %8llu %14llu %14llu %10s\n",
                  s.address.c_str(), s.rack.c_str(), s.alive ? "live" : "dead",
                  static_cast<unsigned long long>(s.chunks),
                  static_cast<unsigned long long>(s.used_bytes),
                  static_cast<unsigned long long>(s.capacity_bytes), ago.c_str());
    env.out << line;
  }
  env.out << servers->size() << " chunkservers, " << live << " live\n";
  return kExitOk;
}

// `gfs admin fsck [PATH]`: walks PATH and reports chunks with no live replica
// (missing: exit 1), fewer replicas than the file asks for, and corrupt replicas.
int RunAdminFsck(Env& env, const std::string& root) {
  uint64_t files = 0, chunks = 0, missing = 0, under = 0, corrupt = 0;
  std::vector<std::string> dirs;
  Status s;
  auto check_file = [&](const std::string& path, const FileInfo& info) {
    ++files;
    Result<std::vector<ChunkLocation>> locations = env.client.GetChunkLocations(path);
    if (!locations.ok()) {
      s = locations.status().Prepend(path);
      return false;
    }
    for (const ChunkLocation& chunk : *locations) {
      ++chunks;
      const std::string where = path + " chunk " + std::to_string(chunk.index) + " (handle " +
                                std::to_string(chunk.handle) + ")";
      if (chunk.replicas.empty()) {
        ++missing;
        env.out << "MISSING " << where << ": no live replica\n";
      } else if (chunk.replicas.size() < info.replication) {
        ++under;
        env.out << "UNDER-REPLICATED " << where << ": " << chunk.replicas.size() << " of "
                << info.replication << " replicas\n";
      }
      for (const std::string& address : chunk.corrupt_replicas) {
        ++corrupt;
        env.out << "CORRUPT " << where << " on " << address << "\n";
      }
    }
    return true;
  };
  Result<FileInfo> top = env.client.Stat(root);
  if (!top.ok()) return env.Fail("admin fsck " + root, top.status());
  if (top->is_directory()) {
    dirs.push_back(root);
  } else {
    check_file(root, *top);
  }
  while (s.ok() && !dirs.empty()) {
    const std::string dir = dirs.back();
    dirs.pop_back();
    Status listed = env.client.ListEach(dir, [&](const FileInfo& entry) {
      const std::string path = JoinPath(dir, entry.name);
      if (entry.is_directory()) {
        dirs.push_back(path);
        return true;
      }
      return check_file(path, entry);
    });
    if (s.ok() && !listed.ok()) s = listed.Prepend(dir);
  }
  if (!s.ok()) return env.Fail("admin fsck " + root, s);
  env.out << "fsck " << root << ": " << files << " files, " << chunks << " chunks, " << missing
          << " missing, " << under << " under-replicated, " << corrupt
          << " corrupt replicas: " << (missing > 0 ? "DATA MISSING" : "HEALTHY") << "\n";
  return missing > 0 ? kExitFailed : kExitOk;
}

int RunAdmin(Env& env, const Invocation& inv) {
  const std::string& sub = inv.operands[0];
  if (sub == "report" && inv.operands.size() == 1) return RunAdminReport(env);
  if (sub == "fsck") return RunAdminFsck(env, inv.operands.size() > 1 ? inv.operands[1] : "/");
  env.err << "gfs: admin: unknown subcommand '" << sub << "'\n"
          << "usage: gfs admin report | gfs admin fsck [PATH]\n";
  return kExitUsage;
}

int RunSnapshot(Env& env, const Invocation& inv) {
  const std::string& src = inv.operands[0];
  const std::string& dst = inv.operands[1];
  const Status s = env.client.Snapshot(src, dst);
  return s.ok() ? kExitOk : env.Fail("snapshot " + src + " " + dst, s);
}

int RunUndelete(Env& env, const Invocation& inv) {
  int code = kExitOk;
  for (const std::string& path : inv.operands) {
    const Status s = env.client.Undelete(path);
    if (!s.ok()) code = env.Fail("undelete " + path, s);
  }
  return code;
}

int RunAppend(Env& env, const Invocation& inv) {
  const std::string& local = inv.operands[0];
  const std::string& remote = inv.operands[1];
  const std::string what = "append " + remote;
  Result<FileInfo> info = env.client.Stat(remote);
  if (!info.ok()) return env.Fail(what, info.status());
  Result<std::string> record =
      ReadAllLocal(env, local, std::max<uint64_t>(1, info->chunk_size / 4));
  if (!record.ok()) return env.Fail(what, record.status());
  Result<uint64_t> offset = env.client.Append(remote, *record);
  if (!offset.ok()) return env.Fail(what, offset.status());
  env.out << *offset << "\n";
  return kExitOk;
}

constexpr size_t kUnlimited = SIZE_MAX;

const std::vector<CommandSpec>& Commands() {
  static const auto* commands = new std::vector<CommandSpec>{
      {"ls",
       "[-l] [-R] [PATH]",
       "list a directory, or show one file",
       "Lists directory PATH (default /), one name per line; directories get a trailing\n"
       "'/'. If PATH is a file, shows just it.",
       {{'l', "long", "long format: type (d or -), replication, size, mtime (UTC), name"},
        {'R', "recursive", "list subdirectories too, each under a 'PATH:' header"}},
       0,
       1,
       RunLs},
      {"mkdir",
       "[-p] PATH...",
       "make directories",
       "Makes each directory PATH; its parent must exist.",
       {{'p', "parents", "make missing parents too; no error if PATH already is a directory"}},
       1,
       kUnlimited,
       RunMkdir},
      {"touch",
       "PATH...",
       "create empty files",
       "Creates each PATH as an empty file; no error if it already is a file.",
       {},
       1,
       kUnlimited,
       RunTouch},
      {"rm",
       "[-r] PATH...",
       "delete files and directories",
       "Deletes each PATH. A non-empty directory needs -r. Deletion is lazy: the path\n"
       "stays recoverable with 'gfs undelete' for the master's --trash_retention_s.",
       {{'r', "recursive", "delete directories with everything in them"}},
       1,
       kUnlimited,
       RunRm},
      {"admin",
       "report | fsck [PATH]",
       "cluster health",
       "report: each chunkserver with its rack, state (live or dead), replicas, space and\n"
       "last heartbeat.\n"
       "fsck: walks PATH (default /) and lists chunks with no live replica (MISSING; exit\n"
       "status 1), fewer replicas than their file asks for, and corrupt replicas.",
       {},
       1,
       2,
       RunAdmin},
      {"snapshot",
       "SRC DST",
       "copy-on-write snapshot of a file or directory",
       "Makes DST a snapshot of the file or directory tree SRC. It shares SRC's chunks\n"
       "until either side writes them; DST must not exist.",
       {},
       2,
       2,
       RunSnapshot},
      {"undelete",
       "PATH...",
       "bring back deleted files or directories",
       "Brings back the most recently deleted file or directory at each PATH, as long as\n"
       "the master still keeps it (--trash_retention_s, 3 days by default).",
       {},
       1,
       kUnlimited,
       RunUndelete},
      {"mv",
       "SRC DST",
       "rename a file or directory",
       "Renames SRC to DST; DST must not exist and its parent must.",
       {},
       2,
       2,
       RunMv},
      {"put",
       "[-r N] [-f] LOCAL|- REMOTE",
       "upload a file or standard input",
       "Uploads local file LOCAL (standard input for -) to the new file REMOTE; returns\n"
       "once every byte is on disk on every replica. Fails if REMOTE exists, unless -f.",
       {{'r', "replication", "replicas per chunk (default: the master's)", "N"},
        {'f', "force", "replace REMOTE if it is a file"}},
       2,
       2,
       RunPut},
      {"get",
       "REMOTE LOCAL|-",
       "download a file",
       "Downloads REMOTE to local file LOCAL (standard output for -).",
       {},
       2,
       2,
       RunGet},
      {"cat",
       "REMOTE...",
       "print files",
       "Prints each REMOTE to standard output.",
       {},
       1,
       kUnlimited,
       RunCat},
      {"append",
       "LOCAL|- REMOTE",
       "append one record atomically",
       "Appends the bytes of LOCAL (standard input for -) to the existing file REMOTE as\n"
       "one atomic record at an offset the system chooses, and prints that offset. A\n"
       "record is at most a quarter of the file's chunk size.",
       {},
       2,
       2,
       RunAppend},
      {"stat",
       "[--json] PATH",
       "show the attributes of a path",
       "Shows path, type, size, replication, chunk size, mtime, inode and, for a file,\n"
       "its chunks (index, handle, version, replicas, primary) of PATH.",
       {{0, "json", "print one JSON object (path, type, size, replication, chunks, mtime, ...)"}},
       1,
       1,
       RunStat},
  };
  return *commands;
}

const CommandSpec* FindCommand(std::string_view name) {
  for (const CommandSpec& cmd : Commands()) {
    if (name == cmd.name) return &cmd;
  }
  return nullptr;
}

std::string UsageLine(const CommandSpec& cmd) {
  return std::string("usage: gfs ") + cmd.name + " " + cmd.args;
}

void PrintToolHelp(std::ostream& out) {
  out << kToolUsage << "\n\nCommands:\n";
  for (const CommandSpec& cmd : Commands()) {
    out << "  " << std::left << std::setw(22) << (std::string(cmd.name) + " " + cmd.args)
        << std::right << cmd.summary << "\n";
  }
  out << "\nOptions:\n"
      << "  --master=HOST:PORT[,...]  master addresses (default: $GFS_MASTER, else "
      << kDefaultMasters << ")\n"
      << "  -h, --help                print this help\n"
      << "\nRun 'gfs COMMAND --help' for the options of one command.\n";
}

void PrintCommandHelp(std::ostream& out, const CommandSpec& cmd) {
  out << UsageLine(cmd) << "\n\n" << cmd.details << "\n";
  if (cmd.options.empty()) return;
  out << "\nOptions:\n";
  for (const OptionSpec& opt : cmd.options) {
    std::string names = opt.short_name ? std::string("-") + opt.short_name + ", " : "    ";
    names += std::string("--") + opt.long_name;
    if (opt.value_name != nullptr) names += std::string("=") + opt.value_name;
    out << "  " << std::left << std::setw(18) << names << std::right << opt.help << "\n";
  }
}

// ---- Parsing ----

// "/a/b/" -> "/a/b", "//" -> "/": what `ls` prints for a directory ("logs/") is
// accepted back. Anything else is left for the master to judge.
std::string StripTrailingSlashes(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

// Parses `args` (what follows the command name) against `cmd`. On a usage error returns
// false with `*error` saying what is wrong.
bool ParseCommandArgs(const CommandSpec& cmd, const std::vector<std::string>& args, Invocation* inv,
                      std::string* error) {
  // `--help` wins over any mistake elsewhere on the line.
  for (const std::string& arg : args) {
    if (arg == "--") break;
    if (arg == "--help") {
      inv->help = true;
      return true;
    }
  }
  // Stores the value of option `opt` (spelled `spelling` on the command line).
  auto set_value = [&](const OptionSpec& opt, const std::string& spelling,
                       const std::string& text) {
    uint64_t value = 0;
    bool valid = !text.empty() && text.size() <= 9;
    for (char c : text) valid = valid && c >= '0' && c <= '9';
    if (valid) value = std::stoull(text);
    if (!valid || value == 0) {
      *error = "invalid value '" + text + "' for " + spelling + ": want a positive integer";
      return false;
    }
    inv->options.push_back(opt.long_name);
    inv->values[opt.long_name] = value;
    return true;
  };
  bool options_done = false;
  for (size_t a = 0; a < args.size(); ++a) {
    const std::string& arg = args[a];
    if (options_done || arg == "-" || arg.empty() || arg[0] != '-') {
      inv->operands.push_back(StripTrailingSlashes(arg));
    } else if (arg == "--") {
      options_done = true;
    } else if (arg.compare(0, 2, "--") == 0) {
      const size_t eq = arg.find('=');
      const std::string name = arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
      const auto it = std::find_if(cmd.options.begin(), cmd.options.end(),
                                   [&](const OptionSpec& o) { return name == o.long_name; });
      if (it == cmd.options.end() || (it->value_name == nullptr && eq != std::string::npos)) {
        *error = "unknown option " + arg;
        return false;
      }
      if (it->value_name == nullptr) {
        inv->options.push_back(it->long_name);
      } else if (eq != std::string::npos) {
        if (!set_value(*it, "--" + name, arg.substr(eq + 1))) return false;
      } else if (a + 1 == args.size()) {
        *error = "option --" + name + " needs a value";
        return false;
      } else if (!set_value(*it, "--" + name, args[++a])) {
        return false;
      }
    } else {
      for (size_t i = 1; i < arg.size(); ++i) {
        const auto it = std::find_if(cmd.options.begin(), cmd.options.end(),
                                     [&](const OptionSpec& o) { return arg[i] == o.short_name; });
        if (it == cmd.options.end()) {
          *error = std::string("unknown option -") + arg[i];
          return false;
        }
        if (it->value_name == nullptr) {
          inv->options.push_back(it->long_name);
          continue;
        }
        // The value is the rest of this argument ("-r2") or the next one ("-r 2").
        const std::string spelling = std::string("-") + arg[i];
        if (i + 1 < arg.size()) {
          if (!set_value(*it, spelling, arg.substr(i + 1))) return false;
        } else if (a + 1 == args.size()) {
          *error = "option " + spelling + " needs a value";
          return false;
        } else if (!set_value(*it, spelling, args[++a])) {
          return false;
        }
        break;
      }
    }
  }
  if (inv->operands.size() < cmd.min_operands) {
    *error = "missing operand";
    return false;
  }
  if (inv->operands.size() > cmd.max_operands) {
    *error = "too many operands";
    return false;
  }
  return true;
}

int UsageError(std::ostream& err, const std::string& message, const std::string& usage) {
  err << "gfs: " << message << "\n" << usage << "\n";
  return kExitUsage;
}

// `gfs help [COMMAND]`.
int RunHelp(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.empty()) {
    PrintToolHelp(out);
    return kExitOk;
  }
  if (args.size() > 1)
    return UsageError(err, "help: too many operands", "usage: gfs help [COMMAND]");
  if (const CommandSpec* cmd = FindCommand(args[0])) {
    PrintCommandHelp(out, *cmd);
    return kExitOk;
  }
  return UsageError(err, "help: unknown command '" + args[0] + "'", "usage: gfs help [COMMAND]");
}

int Run(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
        std::ostream& err, const ClientFactory& factory) {
  // Global options come before the command.
  std::string masters;
  size_t i = 0;
  for (; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "-h" || arg == "--help") {
      PrintToolHelp(out);
      return kExitOk;
    } else if (arg.compare(0, 9, "--master=") == 0 || arg == "--master") {
      if (arg == "--master" && ++i == args.size()) {
        return UsageError(err, "--master needs a value", kToolUsage);
      }
      masters = arg == "--master" ? args[i] : arg.substr(9);
      if (masters.empty()) return UsageError(err, "--master needs a value", kToolUsage);
    } else if (arg.size() > 1 && arg[0] == '-') {
      return UsageError(err, "unknown option " + arg, kToolUsage);
    } else {
      break;
    }
  }
  if (i == args.size()) return UsageError(err, "missing command", kToolUsageWithHint);

  const std::string& name = args[i];
  const std::vector<std::string> rest(args.begin() + i + 1, args.end());
  if (name == "help") return RunHelp(rest, out, err);
  const CommandSpec* cmd = FindCommand(name);
  if (cmd == nullptr) {
    return UsageError(err, "unknown command '" + name + "'", kToolUsageWithHint);
  }
  Invocation inv;
  std::string error;
  if (!ParseCommandArgs(*cmd, rest, &inv, &error)) {
    return UsageError(err, name + ": " + error, UsageLine(*cmd));
  }
  if (inv.help) {
    PrintCommandHelp(out, *cmd);
    return kExitOk;
  }

  if (masters.empty()) {
    const char* env_masters = getenv("GFS_MASTER");
    masters = env_masters != nullptr && *env_masters != '\0' ? env_masters : kDefaultMasters;
  }
  Result<std::unique_ptr<Client>> client = factory(masters);
  if (!client.ok()) {
    // Connect does not dial; it fails only on a malformed address list.
    err << "gfs: master " << masters << ": " << client.status().ToString() << "\n";
    return client.status().code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailed;
  }
  Env env{**client, in, out, err};
  return cmd->run(env, inv);
}

}  // namespace

int RunCli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
           const ClientFactory& factory) {
  return RunCli(args, std::cin, out, err, factory);
}

int RunCli(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
           std::ostream& err, const ClientFactory& factory) {
  const int code = Run(args, in, out, err, factory);
  if (!out.flush()) {
    err << "gfs: writing output failed\n";
    return code == kExitOk ? kExitFailed : code;
  }
  return code;
}

}  // namespace gfs::cli
