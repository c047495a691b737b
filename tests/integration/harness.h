// The integration-test harness: real gfs daemons as child processes on free loopback
// ports, so that kill -9, SIGSTOP and restarts are real (DESIGN.md, "Tests").
//
//   MiniCluster cluster(test_dir());
//   ASSERT_OK(cluster.StartMaster());
//   auto client = cluster.NewClient();
//   ASSERT_OK(cluster.StartChunkservers(3));
//   ASSERT_OK(cluster.WaitChunkserversLive(3));
//   cluster.KillChunkserver(1);
//   cluster.KillMaster();
//   ASSERT_OK(cluster.RestartMaster());
//   CliResult r = cluster.RunCli({"ls", "-l", "/"});
//
// Binaries come from GFS_BIN_DIR (the build's bin directory, set by CMake).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gfs/client.h"
#include "gfs/status.h"

namespace gfs::testing {

// One child process running `binary` with `args`, its stdout and stderr appended to
// `log_path` (kept across restarts, so one file tells the whole story). The child gets
// SIGKILL when the thread that started it exits, so a crashed test leaves no daemons:
// start daemons from the test's main thread.
//
// Not thread-safe: drive one DaemonProcess from one thread.
class DaemonProcess {
 public:
  DaemonProcess(std::string binary, std::vector<std::string> args, std::string log_path);
  // Kills the process (SIGKILL) if it is running and reaps it.
  ~DaemonProcess();

  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  // Starts the process. Returns FailedPrecondition if it is already running, IOError if
  // the log file cannot be opened or fork fails. Success means the process was forked;
  // it says nothing about whether the daemon came up (an exec failure shows as exit
  // code 127 and a line in the log).
  Status Start();

  // SIGKILL, then waits for the process to be gone. No-op if it is not running.
  void Kill();

  // SIGTERM (and SIGCONT, in case it is paused), then waits up to `grace` for it to exit;
  // after that SIGKILL. Returns OK if it exited on its own with code 0 (or died of the
  // SIGTERM itself), Aborted if it had to be killed, Internal for any other exit. OK if
  // it was not running.
  Status Stop(std::chrono::milliseconds grace = std::chrono::seconds(10));

  // SIGSTOP / SIGCONT. No-ops if it is not running.
  void Pause();
  void Resume();

  // Stop() (whatever its outcome) then Start(); returns Start()'s status.
  Status Restart();

  // True while the process lives (a paused process is running). Reaps it, once it died.
  bool running();

  // The pid of the current or last process; 0 before the first Start().
  pid_t pid() const { return pid_; }

  // How the last process ended, e.g. "exited with code 1" or "killed by signal 9"; "still
  // running" or "never started" otherwise.
  std::string ExitDescription() const;

  const std::string& log_path() const { return log_path_; }
  // The last `max_bytes` of the log, for error messages.
  std::string LogTail(size_t max_bytes = 4000) const;

  // Replaces the arguments used by the next Start().
  void set_args(std::vector<std::string> args) { args_ = std::move(args); }

 private:
  // Reaps the child if it exited; with `block`, waits for it. Returns true once reaped.
  bool Reap(bool block);

  const std::string binary_;
  std::vector<std::string> args_;
  const std::string log_path_;
  pid_t pid_ = 0;
  bool alive_ = false;    // forked and not yet reaped
  int wait_status_ = -1;  // waitpid status of the last reaped process; -1 if none
};

// Returns a TCP port on 127.0.0.1 that was free a moment ago (bound to port 0 and
// released). Never returns the same port twice in one process. Thread-safe.
int PickFreePort();

// What a run of the `gfs` command-line tool produced.
struct CliResult {
  int exit_code = -1;  // exit code; 128 + signal if killed; -1 if it could not run
  std::string out;     // stdout
  std::string err;     // stderr
};

// A small cluster of real processes under `root_dir`: one master (data in
// ROOT/master, log in ROOT/master.log). Chunkservers join later, alongside the master
// (ROOT/cs<i>, ROOT/cs<i>.log).
//
// Start/Stop/Kill/Restart/Pause/Wait calls: one thread (the test's main thread).
// master_address(), NewClient(), RunCli(), chunkserver_address(), chunkserver_data_dir()
// and ChunkFilePath() may be called from any thread once what they name was started.
class MiniCluster {
 public:
  explicit MiniCluster(std::string root_dir);
  // Kills every daemon.
  ~MiniCluster();

  MiniCluster(const MiniCluster&) = delete;
  MiniCluster& operator=(const MiniCluster&) = delete;

  // Starts gfs-master on a free loopback port with `extra_flags` appended to its command
  // line, and waits (up to 20 s) until a Ping through the client library succeeds. If the
  // master exits early (e.g. the port was taken meanwhile), retries on a new port a
  // couple of times. Returns FailedPrecondition if a master was already started,
  // Unavailable (with the tail of its log) if it never became healthy.
  Status StartMaster(std::vector<std::string> extra_flags = {});

  // kill -9 the master. The port and the data directory stay reserved for
  // RestartMaster().
  void KillMaster();

  // Graceful stop (SIGTERM); see DaemonProcess::Stop().
  Status StopMaster();

  // Stops the master if it is still running (SIGTERM), starts it again on the same port
  // with the same data directory and flags, and waits until it is healthy (20 s).
  // REQUIRES: StartMaster() succeeded before.
  Status RestartMaster();

  // Waits up to `timeout` until the master answers a Ping; Unavailable (with its log
  // tail) if it does not or if its process died.
  Status WaitMasterHealthy(std::chrono::milliseconds timeout = std::chrono::seconds(20));

  // "127.0.0.1:PORT". REQUIRES: StartMaster() succeeded.
  const std::string& master_address() const { return master_address_; }
  // The master process, for Pause()/Resume() and pid(); nullptr before StartMaster().
  DaemonProcess* master() { return master_.get(); }

  // A client of this cluster's master (never null; does not contact the master yet).
  std::unique_ptr<Client> NewClient(const ClientOptions& options = {}) const;

  // Runs `GFS_BIN_DIR/gfs --master=ADDR args...`, waits for it (30 s, then SIGKILL) and
  // returns its exit code, stdout and stderr. Thread-safe.
  CliResult RunCli(const std::vector<std::string>& args) const;

  const std::string& root_dir() const { return root_dir_; }

  // Daemons started after this call also serve /metrics and / over HTTP
  // (--http_listen), each on a free loopback port of its own that it keeps across
  // restarts. Call before StartMaster().
  void EnableHttp() { http_ = true; }
  // "127.0.0.1:PORT" of the master's HTTP server; "" if it was started without HTTP.
  const std::string& master_http_address() const { return master_http_address_; }
  // The same for chunkserver `i`.
  const std::string& chunkserver_http_address(int i) const;

  // ---- Chunkservers ----
  //
  // Chunkserver i listens on its own free loopback port, keeps its data in ROOT/cs<i>
  // and logs to ROOT/cs<i>.log. Indexes count from 0 in start order.

  // Starts `n` more gfs-chunkservers (--master=master_address()) with `extra_flags`
  // appended to each command line; defaults --rack=r<i> and --heartbeat_ms=200 apply
  // unless `extra_flags` sets them. Waits (up to 20 s each) until each accepts
  // connections, retrying on a new port a couple of times if one exits early. Says
  // nothing about the master knowing them yet: see WaitChunkserversLive().
  // REQUIRES: StartMaster() succeeded.
  Status StartChunkservers(int n, std::vector<std::string> extra_flags = {});

  // kill -9 chunkserver `i`. Its port and data directory stay reserved for
  // RestartChunkserver(i).
  void KillChunkserver(int i);
  // Graceful stop (SIGTERM); see DaemonProcess::Stop().
  Status StopChunkserver(int i);
  // Stops chunkserver `i` if it still runs (SIGTERM), starts it again on the same port
  // with the same data directory and flags, and waits until it accepts connections.
  Status RestartChunkserver(int i);
  // SIGSTOP / SIGCONT chunkserver `i`.
  void PauseChunkserver(int i);
  void ResumeChunkserver(int i);

  // Waits up to `timeout` until the master places new chunks on at least `n` live
  // chunkservers: it creates a probe file with replication `n` (under /.harness-probe),
  // writes one byte to it and checks that the chunk has `n` replicas; the probe is
  // deleted afterwards. Unavailable (with the last error) if that never happens.
  Status WaitChunkserversLive(int n, std::chrono::milliseconds timeout = std::chrono::seconds(20));

  int num_chunkservers() const { return static_cast<int>(chunkservers_.size()); }
  // "127.0.0.1:PORT", as the chunkserver advertises itself.
  const std::string& chunkserver_address(int i) const;
  // ROOT/cs<i>.
  const std::string& chunkserver_data_dir(int i) const;
  // The process of chunkserver `i`, for pid() and running().
  DaemonProcess* chunkserver(int i);
  // The index of the chunkserver advertising `address`, or -1.
  int ChunkserverIndex(const std::string& address) const;

  // Where chunkserver `cs` keeps chunk `handle`:
  // ROOT/cs<cs>/chunks/<handle as 16 hex digits>.chunk (see chunkserver/chunk_store.h).
  std::string ChunkFilePath(int cs, uint64_t handle) const;
  // The data of that replica as its file holds it (past the header and checksums);
  // NotFound if there is no file, DataLoss if its header does not decode.
  Result<std::string> ReadReplicaData(int cs, uint64_t handle) const;

 private:
  struct Chunkserver {
    int port = 0;
    std::string address;
    std::string http_address;  // "" without HTTP
    std::string data_dir;
    std::vector<std::string> args;
    std::unique_ptr<DaemonProcess> process;
  };

  std::vector<std::string> MasterArgs() const;
  Chunkserver& cs(int i);
  const Chunkserver& cs(int i) const;
  // Waits until chunkserver `i` accepts connections; Unavailable if it died.
  Status WaitChunkserverListening(int i, std::chrono::milliseconds timeout);

  const std::string root_dir_;
  bool http_ = false;
  std::vector<std::string> master_extra_flags_;
  int master_port_ = 0;
  std::string master_address_;
  std::string master_http_address_;
  std::unique_ptr<DaemonProcess> master_;
  std::vector<Chunkserver> chunkservers_;
  int probe_counter_ = 0;
};

// Runs `binary args...` to completion (or until `timeout`, then SIGKILL), capturing its
// stdout and stderr. Thread-safe.
CliResult RunCommand(const std::string& binary, const std::vector<std::string>& args,
                     std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace gfs::testing
