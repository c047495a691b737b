#include "client/cli.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iomanip>
#include <string_view>

#include "common/path.h"

namespace gfs::cli {
namespace {

constexpr char kToolUsage[] = "usage: gfs [--master=HOST:PORT[,...]] COMMAND [ARGS]";
constexpr char kToolUsageWithHint[] =
    "usage: gfs [--master=HOST:PORT[,...]] COMMAND [ARGS]\n"
    "Run 'gfs --help' to list the commands.";

// Commands of SPEC.md that later milestones build; named so users get a clear answer.
constexpr const char* kNotYetImplemented[] = {"put",      "get",      "cat",  "append",
                                              "undelete", "snapshot", "admin"};

// A boolean option of one command. Every option has a long name, which is also the
// key a command asks for; `short_name` is 0 when there is no one-letter form.
struct OptionSpec {
  char short_name;
  const char* long_name;
  const char* help;
};

// The parsed arguments of one command: the options given and the operands, in order.
struct Invocation {
  std::vector<std::string> options;  // long names
  std::vector<std::string> operands;
  bool help = false;

  bool Has(std::string_view long_name) const {
    return std::find(options.begin(), options.end(), long_name) != options.end();
  }
};

// What a command runs with.
struct Env {
  Client& client;
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

int RunStat(Env& env, const Invocation& inv) {
  const std::string& path = inv.operands[0];
  const Result<FileInfo> r = env.client.Stat(path);
  if (!r.ok()) return env.Fail("stat " + path, r.status());
  const FileInfo& info = *r;
  const char* type = info.is_directory() ? "dir" : "file";
  if (inv.Has("json")) {
    // Chunks come with the data path; until then a file has none to show.
    env.out << "{\"path\":" << JsonString(path) << ",\"type\":\"" << type
            << "\",\"size\":" << info.size << ",\"replication\":" << info.replication
            << ",\"chunk_size\":" << info.chunk_size << ",\"mtime\":\"" << FormatTime(info.mtime_us)
            << "\",\"mtime_us\":" << info.mtime_us << ",\"inode\":" << info.inode_id
            << ",\"chunks\":[]}\n";
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
       "Deletes each PATH. A non-empty directory needs -r.",
       {{'r', "recursive", "delete directories with everything in them"}},
       1,
       kUnlimited,
       RunRm},
      {"mv",
       "SRC DST",
       "rename a file or directory",
       "Renames SRC to DST; DST must not exist and its parent must.",
       {},
       2,
       2,
       RunMv},
      {"stat",
       "[--json] PATH",
       "show the attributes of a path",
       "Shows path, type, size, replication, chunk size, mtime and inode of PATH.",
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

bool IsNotYetImplemented(std::string_view name) {
  return std::any_of(std::begin(kNotYetImplemented), std::end(kNotYetImplemented),
                     [&](const char* n) { return name == n; });
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
  bool options_done = false;
  for (const std::string& arg : args) {
    if (options_done || arg == "-" || arg.empty() || arg[0] != '-') {
      inv->operands.push_back(StripTrailingSlashes(arg));
    } else if (arg == "--") {
      options_done = true;
    } else if (arg.compare(0, 2, "--") == 0) {
      const std::string name = arg.substr(2);
      const auto it = std::find_if(cmd.options.begin(), cmd.options.end(),
                                   [&](const OptionSpec& o) { return name == o.long_name; });
      if (it == cmd.options.end()) {
        *error = "unknown option " + arg;
        return false;
      }
      inv->options.push_back(it->long_name);
    } else {
      for (size_t i = 1; i < arg.size(); ++i) {
        const auto it = std::find_if(cmd.options.begin(), cmd.options.end(),
                                     [&](const OptionSpec& o) { return arg[i] == o.short_name; });
        if (it == cmd.options.end()) {
          *error = std::string("unknown option -") + arg[i];
          return false;
        }
        inv->options.push_back(it->long_name);
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
  if (IsNotYetImplemented(args[0])) {
    err << "gfs: " << args[0] << ": not implemented yet\n";
    return kExitFailed;
  }
  return UsageError(err, "help: unknown command '" + args[0] + "'", "usage: gfs help [COMMAND]");
}

int Run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
        const ClientFactory& factory) {
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
    if (IsNotYetImplemented(name)) {
      err << "gfs: " << name << ": not implemented yet\n";
      return kExitFailed;
    }
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
  Env env{**client, out, err};
  return cmd->run(env, inv);
}

}  // namespace

int RunCli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
           const ClientFactory& factory) {
  const int code = Run(args, out, err, factory);
  if (!out.flush()) {
    err << "gfs: writing output failed\n";
    return code == kExitOk ? kExitFailed : code;
  }
  return code;
}

}  // namespace gfs::cli
