// The `gfs` command-line tool, as a function that tests can call.
//
//   gfs [--master=HOST:PORT[,...]] COMMAND [ARGS]
//
// Commands: put, get, cat, mkdir, ls, stat, rm, mv, touch, help (SPEC.md, "CLI"). The master list
// comes from --master, else the GFS_MASTER environment variable, else 127.0.0.1:7000.
// Options may be combined (`-lR`), may come before or after paths, and `--` ends them.
// `gfs --help` (or `-h`, or `gfs help`) prints the overview; `gfs COMMAND --help` and
// `gfs help COMMAND` print one command's usage.
#pragma once

#include <functional>
#include <istream>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "gfs/client.h"

namespace gfs::cli {

// Exit codes of the tool (SPEC.md, "Exit status").
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;  // the operation failed; the reason is on `err`
inline constexpr int kExitUsage = 2;   // bad command line; a usage line is on `err`

// The master list used when neither --master nor GFS_MASTER gives one.
inline constexpr char kDefaultMasters[] = "127.0.0.1:7000";

// Makes the client a command talks to, given the comma-separated master list. The real
// tool passes gfs::Client::Connect; tests pass an in-memory fake.
using ClientFactory =
    std::function<gfs::Result<std::unique_ptr<gfs::Client>>(const std::string& masters)>;

// Runs the tool on `args` (argv without argv[0]) and returns its exit code: kExitOk,
// kExitFailed or kExitUsage. Results go to `out`. Every failure is reported on `err` as
// one line per failed path, "gfs: <command> <path>: <Status::ToString()>", e.g.
//   gfs: mkdir /a/b: NotFound: parent directory /a does not exist
// Commands that take several paths go on after a failed one and then return
// kExitFailed. `factory` is called at most once, and only after the command line
// parsed; help and usage errors never call it. If it fails, that is reported as
// "gfs: master <list>: <reason>" with kExitUsage for InvalidArgument (a malformed
// --master or GFS_MASTER), else kExitFailed.
// `put LOCAL|- REMOTE` with "-" reads the tool's input: std::cin.
int RunCli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
           const ClientFactory& factory);

// As above, with `in` as the tool's input (what `put - REMOTE` uploads).
int RunCli(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
           std::ostream& err, const ClientFactory& factory);

}  // namespace gfs::cli
