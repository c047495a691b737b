#include "tests/integration/harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <glog/logging.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "chunkserver/chunk_store.h"
#include "tests/test_util.h"

#ifndef GFS_BIN_DIR
#error "GFS_BIN_DIR must name the directory holding gfs-master and gfs"
#endif

namespace gfs::testing {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// argv for execv; the strings stay owned by `storage`.
std::vector<char*> MakeArgv(const std::string& binary, const std::vector<std::string>& args,
                            std::vector<std::string>* storage) {
  storage->clear();
  storage->push_back(binary);
  storage->insert(storage->end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : *storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  return argv;
}

// Runs in the forked child: only async-signal-safe calls until execv (the test process
// has gRPC threads, and only the forking thread survives in the child).
[[noreturn]] void ExecChild(pid_t parent, int stdin_fd, int stdout_fd, int stderr_fd,
                            char* const argv[]) {
  // Die with the test. If the parent already died before prctl took effect, go now.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(126);

  // The forking thread's signal mask and SIG_IGN dispositions survive exec; a daemon
  // must start with the defaults to see SIGTERM.
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction dfl;
  memset(&dfl, 0, sizeof(dfl));
  dfl.sa_handler = SIG_DFL;
  for (int sig : {SIGTERM, SIGINT, SIGPIPE, SIGHUP}) sigaction(sig, &dfl, nullptr);

  if (dup2(stdin_fd, STDIN_FILENO) < 0 || dup2(stdout_fd, STDOUT_FILENO) < 0 ||
      dup2(stderr_fd, STDERR_FILENO) < 0) {
    _exit(127);
  }
  // Every other descriptor of ours is O_CLOEXEC; exec closes them.
  execv(argv[0], argv);
  const char msg[] = "harness: execv failed: ";
  (void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
  (void)!write(STDERR_FILENO, argv[0], strlen(argv[0]));
  (void)!write(STDERR_FILENO, "\n", 1);
  _exit(127);
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "wait status " + std::to_string(status);
}

int OpenDevNull() { return open("/dev/null", O_RDONLY | O_CLOEXEC); }

// True if something accepts TCP connections on 127.0.0.1:`port` (on loopback a connect
// is refused or accepted at once).
bool PortAcceptsConnections(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

// True if `flags` sets --`name` (as --name=VALUE or --name VALUE).
bool HasFlag(const std::vector<std::string>& flags, const std::string& name) {
  for (const std::string& f : flags) {
    if (f == "--" + name || f.rfind("--" + name + "=", 0) == 0) return true;
  }
  return false;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// DaemonProcess

DaemonProcess::DaemonProcess(std::string binary, std::vector<std::string> args,
                             std::string log_path)
    : binary_(std::move(binary)), args_(std::move(args)), log_path_(std::move(log_path)) {}

DaemonProcess::~DaemonProcess() { Kill(); }

Status DaemonProcess::Start() {
  if (running()) {
    return Status::FailedPrecondition(binary_ + " is already running as pid " +
                                      std::to_string(pid_));
  }
  int log_fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return Status::IOError("opening " + log_path_, errno);
  int null_fd = OpenDevNull();
  if (null_fd < 0) {
    int err = errno;
    close(log_fd);
    return Status::IOError("opening /dev/null", err);
  }
  std::vector<std::string> storage;
  std::vector<char*> argv = MakeArgv(binary_, args_, &storage);
  {
    // A banner, so that the log of a restarted daemon shows where each run begins.
    std::string banner = "==== harness: starting";
    for (const std::string& s : storage) banner += " " + s;
    banner += "\n";
    (void)!write(log_fd, banner.data(), banner.size());
  }

  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) ExecChild(parent, null_fd, log_fd, log_fd, argv.data());
  int fork_errno = errno;
  close(log_fd);
  close(null_fd);
  if (pid < 0) return Status::IOError("fork for " + binary_, fork_errno);

  pid_ = pid;
  alive_ = true;
  wait_status_ = -1;
  LOG(INFO) << "harness: started " << binary_ << " as pid " << pid_ << " (log " << log_path_ << ")";
  return Status::OK();
}

bool DaemonProcess::Reap(bool block) {
  if (!alive_) return true;
  while (true) {
    int status = 0;
    pid_t r = waitpid(pid_, &status, block ? 0 : WNOHANG);
    if (r == pid_) {
      alive_ = false;
      wait_status_ = status;
      return true;
    }
    if (r == 0) return false;
    if (errno == EINTR) continue;
    // ECHILD: somebody else reaped it; it is gone either way.
    PLOG(WARNING) << "harness: waitpid(" << pid_ << ")";
    alive_ = false;
    return true;
  }
}

bool DaemonProcess::running() { return alive_ && !Reap(/*block=*/false); }

void DaemonProcess::Kill() {
  if (!alive_) return;
  kill(pid_, SIGKILL);
  Reap(/*block=*/true);
  LOG(INFO) << "harness: killed " << binary_ << " pid " << pid_;
}

Status DaemonProcess::Stop(milliseconds grace) {
  if (!running()) return Status::OK();
  kill(pid_, SIGTERM);
  kill(pid_, SIGCONT);  // a paused process would never see the SIGTERM
  if (!WaitFor([this] { return Reap(/*block=*/false); }, grace)) {
    kill(pid_, SIGKILL);
    Reap(/*block=*/true);
    return Status::Aborted(binary_ + " pid " + std::to_string(pid_) + " ignored SIGTERM for " +
                           std::to_string(grace.count()) + " ms; killed");
  }
  LOG(INFO) << "harness: stopped " << binary_ << " pid " << pid_ << ": " << ExitDescription();
  if ((WIFEXITED(wait_status_) && WEXITSTATUS(wait_status_) == 0) ||
      (WIFSIGNALED(wait_status_) && WTERMSIG(wait_status_) == SIGTERM)) {
    return Status::OK();
  }
  return Status::Internal(binary_ + " pid " + std::to_string(pid_) + " " + ExitDescription() +
                          " on SIGTERM");
}

void DaemonProcess::Pause() {
  if (running()) kill(pid_, SIGSTOP);
}

void DaemonProcess::Resume() {
  if (running()) kill(pid_, SIGCONT);
}

Status DaemonProcess::Restart() {
  Status stopped = Stop();
  if (!stopped.ok()) LOG(WARNING) << "harness: restart: " << stopped.ToString();
  return Start();
}

std::string DaemonProcess::ExitDescription() const {
  if (alive_) return "still running";
  if (wait_status_ == -1) return pid_ == 0 ? "never started" : "gone (reaped elsewhere)";
  return DescribeWaitStatus(wait_status_);
}

std::string DaemonProcess::LogTail(size_t max_bytes) const {
  std::ifstream in(log_path_, std::ios::binary);
  if (!in) return "(no log at " + log_path_ + ")";
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  std::streamoff start = size > static_cast<std::streamoff>(max_bytes) ? size - max_bytes : 0;
  in.seekg(start);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// ---------------------------------------------------------------------------------------
// PickFreePort, RunCommand

int PickFreePort() {
  static std::mutex mu;
  static std::set<int> handed_out;
  std::lock_guard<std::mutex> lock(mu);
  for (int attempt = 0; attempt < 100; ++attempt) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    PCHECK(fd >= 0) << "socket";
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof(addr);
    bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
              getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
    close(fd);
    if (!ok) continue;
    int port = ntohs(addr.sin_port);
    if (handed_out.insert(port).second) return port;
  }
  LOG(FATAL) << "harness: no free loopback port after 100 attempts";
}

CliResult RunCommand(const std::string& binary, const std::vector<std::string>& args,
                     milliseconds timeout) {
  CliResult result;
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) {
    result.err = std::string("harness: pipe: ") + strerror(errno);
    return result;
  }
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    result.err = std::string("harness: pipe: ") + strerror(errno);
    close(out_pipe[0]);
    close(out_pipe[1]);
    return result;
  }
  int null_fd = OpenDevNull();
  std::vector<std::string> storage;
  std::vector<char*> argv = MakeArgv(binary, args, &storage);

  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) ExecChild(parent, null_fd, out_pipe[1], err_pipe[1], argv.data());
  int fork_errno = errno;
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (null_fd >= 0) close(null_fd);
  if (pid < 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    result.err = std::string("harness: fork: ") + strerror(fork_errno);
    return result;
  }

  // Drain both pipes together so that a child filling one of them never blocks.
  const auto deadline = Clock::now() + timeout;
  struct Stream {
    int fd;
    std::string* sink;
  };
  std::vector<Stream> open_streams = {{out_pipe[0], &result.out}, {err_pipe[0], &result.err}};
  bool timed_out = false;
  while (!open_streams.empty()) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    std::vector<pollfd> fds;
    for (const Stream& s : open_streams) fds.push_back({s.fd, POLLIN, 0});
    int n = poll(fds.data(), fds.size(), static_cast<int>(left));
    if (n < 0 && errno != EINTR) break;
    if (n <= 0) continue;
    for (size_t i = fds.size(); i-- > 0;) {
      if (fds[i].revents == 0) continue;
      char buf[8192];
      ssize_t got = read(fds[i].fd, buf, sizeof(buf));
      if (got > 0) {
        open_streams[i].sink->append(buf, got);
      } else if (got == 0 || errno != EINTR) {
        close(fds[i].fd);
        open_streams.erase(open_streams.begin() + i);
      }
    }
  }
  for (const Stream& s : open_streams) close(s.fd);
  if (timed_out) kill(pid, SIGKILL);

  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.exit_code = 128 + WTERMSIG(status);
  }
  if (timed_out) {
    result.err +=
        "\nharness: " + binary + " killed after " + std::to_string(timeout.count()) + " ms";
  }
  return result;
}

// ---------------------------------------------------------------------------------------
// MiniCluster

MiniCluster::MiniCluster(std::string root_dir) : root_dir_(std::move(root_dir)) {}

MiniCluster::~MiniCluster() {
  for (Chunkserver& c : chunkservers_) c.process->Kill();
  if (master_ != nullptr) master_->Kill();
}

std::vector<std::string> MiniCluster::MasterArgs() const {
  std::vector<std::string> args = {"--listen=" + master_address_,
                                   "--data_dir=" + root_dir_ + "/master", "--logtostderr"};
  if (!master_http_address_.empty()) args.push_back("--http_listen=" + master_http_address_);
  args.insert(args.end(), master_extra_flags_.begin(), master_extra_flags_.end());
  return args;
}

Status MiniCluster::StartMaster(std::vector<std::string> extra_flags) {
  if (master_ != nullptr) return Status::FailedPrecondition("the master was already started");
  master_extra_flags_ = std::move(extra_flags);
  std::error_code ec;
  std::filesystem::create_directories(root_dir_ + "/master", ec);
  if (ec) return Status::IOError("creating " + root_dir_ + "/master", ec.value());

  constexpr int kAttempts = 3;
  Status last;
  for (int attempt = 1; attempt <= kAttempts; ++attempt) {
    master_port_ = PickFreePort();
    master_address_ = "127.0.0.1:" + std::to_string(master_port_);
    master_http_address_ = http_ ? "127.0.0.1:" + std::to_string(PickFreePort()) : "";
    master_ = std::make_unique<DaemonProcess>(std::string(GFS_BIN_DIR) + "/gfs-master",
                                              MasterArgs(), root_dir_ + "/master.log");
    GFS_RETURN_IF_ERROR(master_->Start());
    last = WaitMasterHealthy();
    if (last.ok()) return Status::OK();
    // Alive but not answering is no port clash: give up rather than hide it.
    if (master_->running()) {
      master_->Kill();
      break;
    }
    LOG(WARNING) << "harness: gfs-master on " << master_address_ << " "
                 << master_->ExitDescription() << " (attempt " << attempt << " of " << kAttempts
                 << "); retrying on another port";
  }
  return last;
}

void MiniCluster::KillMaster() {
  CHECK(master_ != nullptr) << "KillMaster before StartMaster";
  master_->Kill();
}

Status MiniCluster::StopMaster() {
  CHECK(master_ != nullptr) << "StopMaster before StartMaster";
  return master_->Stop();
}

Status MiniCluster::RestartMaster() {
  CHECK(master_ != nullptr) << "RestartMaster before StartMaster";
  if (master_->running()) {
    Status stopped = master_->Stop();
    if (!stopped.ok()) LOG(WARNING) << "harness: restarting master: " << stopped.ToString();
  }
  master_->set_args(MasterArgs());
  GFS_RETURN_IF_ERROR(master_->Start());
  return WaitMasterHealthy();
}

Status MiniCluster::WaitMasterHealthy(milliseconds timeout) {
  CHECK(master_ != nullptr) << "WaitMasterHealthy before StartMaster";
  ClientOptions options;
  options.rpc_timeout = milliseconds(500);
  options.operation_timeout = milliseconds(500);
  options.initial_backoff = milliseconds(10);
  options.max_backoff = milliseconds(100);
  std::unique_ptr<Client> client = NewClient(options);
  const auto start = Clock::now();
  const auto deadline = start + timeout;
  Status last = Status::Unavailable("no ping attempted");
  // Wait for the port before the first Ping: a gRPC channel whose first connect was
  // refused may not notice the server for seconds (see the crash test).
  bool listening = false;
  while (Clock::now() < deadline) {
    if (!master_->running()) {
      return Status::Unavailable("gfs-master on " + master_address_ + " " +
                                 master_->ExitDescription() + "; log tail:\n" + master_->LogTail());
    }
    if (!listening) {
      listening = PortAcceptsConnections(master_port_);
      if (!listening) {
        last = Status::Unavailable("port " + std::to_string(master_port_) + " not listening");
        std::this_thread::sleep_for(milliseconds(10));
        continue;
      }
    }
    Result<MasterPosition> pong = client->Ping();
    if (pong.ok()) {
      LOG(INFO) << "harness: gfs-master on " << master_address_ << " healthy after "
                << std::chrono::duration_cast<milliseconds>(Clock::now() - start).count() << " ms";
      return Status::OK();
    }
    last = pong.status();
    VLOG(1) << "harness: ping " << master_address_ << ": " << last.ToString();
    std::this_thread::sleep_for(milliseconds(10));
  }
  return Status::Unavailable(
      "gfs-master on " + master_address_ + " not healthy after " + std::to_string(timeout.count()) +
      " ms (last ping: " + last.ToString() + "); log tail:\n" + master_->LogTail());
}

std::unique_ptr<Client> MiniCluster::NewClient(const ClientOptions& options) const {
  Result<std::unique_ptr<Client>> client = Client::Connect(master_address_, options);
  CHECK(client.ok()) << "Client::Connect(" << master_address_
                     << "): " << client.status().ToString();
  return std::move(client).value();
}

CliResult MiniCluster::RunCli(const std::vector<std::string>& args) const {
  std::vector<std::string> full = {"--master=" + master_address_};
  full.insert(full.end(), args.begin(), args.end());
  return RunCommand(std::string(GFS_BIN_DIR) + "/gfs", full);
}

// ---------------------------------------------------------------------------------------
// MiniCluster: chunkservers

MiniCluster::Chunkserver& MiniCluster::cs(int i) {
  CHECK(i >= 0 && i < num_chunkservers())
      << "chunkserver " << i << " of " << num_chunkservers() << " started";
  return chunkservers_[i];
}

const MiniCluster::Chunkserver& MiniCluster::cs(int i) const {
  CHECK(i >= 0 && i < num_chunkservers())
      << "chunkserver " << i << " of " << num_chunkservers() << " started";
  return chunkservers_[i];
}

const std::string& MiniCluster::chunkserver_address(int i) const { return cs(i).address; }
const std::string& MiniCluster::chunkserver_http_address(int i) const { return cs(i).http_address; }
const std::string& MiniCluster::chunkserver_data_dir(int i) const { return cs(i).data_dir; }
DaemonProcess* MiniCluster::chunkserver(int i) { return cs(i).process.get(); }

int MiniCluster::ChunkserverIndex(const std::string& address) const {
  for (int i = 0; i < num_chunkservers(); ++i) {
    if (chunkservers_[i].address == address) return i;
  }
  return -1;
}

std::string MiniCluster::ChunkFilePath(int i, uint64_t handle) const {
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016" PRIx64, handle);
  return cs(i).data_dir + "/chunks/" + hex + ".chunk";
}

Result<std::string> MiniCluster::ReadReplicaData(int i, uint64_t handle) const {
  const std::string path = ChunkFilePath(i, handle);
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot open " + path);
  GFS_ASSIGN_OR_RETURN(const uint64_t offset, chunkserver::ReadChunkDataOffset(path));
  in.seekg(static_cast<std::streamoff>(offset));
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

Status MiniCluster::WaitChunkserverListening(int i, milliseconds timeout) {
  Chunkserver& c = cs(i);
  const auto start = Clock::now();
  const auto deadline = start + timeout;
  while (Clock::now() < deadline) {
    if (!c.process->running()) {
      return Status::Unavailable("gfs-chunkserver " + std::to_string(i) + " on " + c.address + " " +
                                 c.process->ExitDescription() + "; log tail:\n" +
                                 c.process->LogTail());
    }
    if (PortAcceptsConnections(c.port)) {
      LOG(INFO) << "harness: gfs-chunkserver " << i << " on " << c.address << " listening after "
                << std::chrono::duration_cast<milliseconds>(Clock::now() - start).count() << " ms";
      return Status::OK();
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
  return Status::Unavailable("gfs-chunkserver " + std::to_string(i) + " on " + c.address +
                             " not listening after " + std::to_string(timeout.count()) +
                             " ms; log tail:\n" + c.process->LogTail());
}

Status MiniCluster::StartChunkservers(int n, std::vector<std::string> extra_flags) {
  CHECK(master_ != nullptr) << "StartChunkservers before StartMaster";
  for (int k = 0; k < n; ++k) {
    const int i = num_chunkservers();
    Chunkserver c;
    c.data_dir = root_dir_ + "/cs" + std::to_string(i);
    std::error_code ec;
    std::filesystem::create_directories(c.data_dir, ec);
    if (ec) return Status::IOError("creating " + c.data_dir, ec.value());
    chunkservers_.push_back(std::move(c));

    constexpr int kAttempts = 3;
    Status last;
    for (int attempt = 1; attempt <= kAttempts; ++attempt) {
      Chunkserver& slot = chunkservers_[i];
      slot.port = PickFreePort();
      slot.address = "127.0.0.1:" + std::to_string(slot.port);
      slot.args = {"--listen=" + slot.address, "--advertise=" + slot.address,
                   "--master=" + master_address_, "--data_dir=" + slot.data_dir, "--logtostderr"};
      slot.http_address = http_ ? "127.0.0.1:" + std::to_string(PickFreePort()) : "";
      if (http_) slot.args.push_back("--http_listen=" + slot.http_address);
      if (!HasFlag(extra_flags, "rack")) slot.args.push_back("--rack=r" + std::to_string(i));
      if (!HasFlag(extra_flags, "heartbeat_ms")) slot.args.push_back("--heartbeat_ms=200");
      slot.args.insert(slot.args.end(), extra_flags.begin(), extra_flags.end());
      slot.process =
          std::make_unique<DaemonProcess>(std::string(GFS_BIN_DIR) + "/gfs-chunkserver", slot.args,
                                          root_dir_ + "/cs" + std::to_string(i) + ".log");
      GFS_RETURN_IF_ERROR(slot.process->Start());
      last = WaitChunkserverListening(i, std::chrono::seconds(20));
      if (last.ok()) break;
      if (slot.process->running()) {
        slot.process->Kill();
        break;
      }
      LOG(WARNING) << "harness: gfs-chunkserver " << i << " on " << slot.address << " "
                   << slot.process->ExitDescription() << " (attempt " << attempt << " of "
                   << kAttempts << "); retrying on another port";
    }
    GFS_RETURN_IF_ERROR(last);
  }
  return Status::OK();
}

void MiniCluster::KillChunkserver(int i) { cs(i).process->Kill(); }

Status MiniCluster::StopChunkserver(int i) { return cs(i).process->Stop(); }

Status MiniCluster::RestartChunkserver(int i) {
  Chunkserver& c = cs(i);
  if (c.process->running()) {
    Status stopped = c.process->Stop();
    if (!stopped.ok())
      LOG(WARNING) << "harness: restarting chunkserver " << i << ": " << stopped.ToString();
  }
  GFS_RETURN_IF_ERROR(c.process->Start());
  return WaitChunkserverListening(i, std::chrono::seconds(20));
}

void MiniCluster::PauseChunkserver(int i) { cs(i).process->Pause(); }
void MiniCluster::ResumeChunkserver(int i) { cs(i).process->Resume(); }

Status MiniCluster::WaitChunkserversLive(int n, milliseconds timeout) {
  CHECK(master_ != nullptr) << "WaitChunkserversLive before StartMaster";
  ClientOptions options;
  options.rpc_timeout = milliseconds(1000);
  options.operation_timeout = milliseconds(1000);
  options.initial_backoff = milliseconds(10);
  options.max_backoff = milliseconds(100);
  options.data_timeout = milliseconds(1500);
  std::unique_ptr<Client> client = NewClient(options);
  const std::string dir = "/.harness-probe";
  const auto start = Clock::now();
  const auto deadline = start + timeout;
  Status last = Status::Unavailable("no probe attempted");
  while (Clock::now() < deadline) {
    if (!master_->running()) {
      return Status::Unavailable("gfs-master " + master_->ExitDescription() + "; log tail:\n" +
                                 master_->LogTail());
    }
    // A fresh probe each round: a chunk placed while fewer servers were live keeps its
    // replicas.
    const std::string probe = dir + "/p" + std::to_string(probe_counter_++);
    Status s = client->Mkdir(dir, /*parents=*/true);
    if (s.ok()) s = client->CreateFile(probe, static_cast<uint32_t>(n)).status();
    if (s.ok()) s = client->WriteAt(probe, 0, "x");
    if (s.ok()) {
      Result<std::vector<ChunkLocation>> chunks = client->GetChunkLocations(probe);
      if (!chunks.ok()) {
        s = chunks.status();
      } else if (chunks->size() != 1) {
        s = Status::Internal("probe " + probe + " has " + std::to_string(chunks->size()) +
                             " chunks after a 1-byte write");
      } else if ((*chunks)[0].replicas.size() < static_cast<size_t>(n)) {
        s = Status::Unavailable("probe chunk placed on " +
                                std::to_string((*chunks)[0].replicas.size()) + " of " +
                                std::to_string(n) + " chunkservers");
      }
    }
    (void)client->Delete(probe);
    if (s.ok()) {
      (void)client->Delete(dir, /*recursive=*/true);
      LOG(INFO) << "harness: " << n << " chunkservers live after "
                << std::chrono::duration_cast<milliseconds>(Clock::now() - start).count() << " ms";
      return Status::OK();
    }
    last = s;
    VLOG(1) << "harness: probe " << probe << ": " << last.ToString();
    std::this_thread::sleep_for(milliseconds(50));
  }
  return Status::Unavailable(
      "fewer than " + std::to_string(n) + " chunkservers live at the master after " +
      std::to_string(timeout.count()) + " ms (last probe: " + last.ToString() + ")");
}

}  // namespace gfs::testing
