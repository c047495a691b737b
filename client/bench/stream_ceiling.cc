#include "client/bench/stream_ceiling.h"

#include <glog/logging.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <iostream>
#include <memory>
#include <thread>

#include "client/bench/bench_stream.grpc.pb.h"
#include "client/bench/cpu_usage.h"
#include "common/grpc_channel.h"
#include "common/grpc_server.h"

extern char** environ;

namespace gfs::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

class BenchStreamService final : public proto::BenchStream::Service {
 public:
  grpc::Status Source(grpc::ServerContext*, const proto::SourceRequest* request,
                      grpc::ServerWriter<proto::Piece>* writer) override {
    const uint64_t size = std::max<uint32_t>(1, request->message_bytes());
    proto::Piece piece;
    piece.mutable_data()->assign(size, 'x');
    for (uint64_t sent = 0; sent < request->total_bytes();) {
      const uint64_t n = std::min(size, request->total_bytes() - sent);
      if (n < size) piece.mutable_data()->resize(n);
      if (!writer->Write(piece)) return grpc::Status(grpc::StatusCode::CANCELLED, "gone");
      sent += n;
    }
    return grpc::Status::OK;
  }

  grpc::Status Sink(grpc::ServerContext*, grpc::ServerReader<proto::Piece>* reader,
                    proto::SinkSummary* summary) override {
    proto::Piece piece;
    uint64_t bytes = 0;
    while (reader->Read(&piece)) bytes += piece.data().size();
    summary->set_bytes(bytes);
    return grpc::Status::OK;
  }
};

// The server process started by RunStreamCeiling; killed when this goes away.
class ServerProcess {
 public:
  static Result<std::unique_ptr<ServerProcess>> Start() {
    char exe[PATH_MAX];
    const ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (len <= 0) return Status::Internal("stream_ceiling: cannot read /proc/self/exe");
    exe[len] = '\0';
    int fds[2];
    if (pipe(fds) != 0) return Status::IOError("stream_ceiling: pipe", errno);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    std::string flag = "--stream_server=127.0.0.1:0";
    char* argv[] = {exe, flag.data(), nullptr};
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, exe, &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    if (rc != 0) {
      close(fds[0]);
      return Status::IOError("stream_ceiling: spawning the server", rc);
    }
    auto process = std::unique_ptr<ServerProcess>(new ServerProcess(pid));
    // The server prints its port once it serves.
    std::string line;
    char c;
    while (read(fds[0], &c, 1) == 1 && c != '\n') line += c;
    close(fds[0]);
    const int port = std::atoi(line.c_str());
    if (port <= 0) {
      return Status::Internal("stream_ceiling: the server process did not start (printed '" + line +
                              "')");
    }
    process->address_ = "127.0.0.1:" + std::to_string(port);
    return process;
  }

  ~ServerProcess() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }

  const std::string& address() const { return address_; }
  pid_t pid() const { return pid_; }

 private:
  explicit ServerProcess(pid_t pid) : pid_(pid) {}
  const pid_t pid_;
  std::string address_;
};

struct StreamTally {
  LatencyRecorder latencies;
  uint64_t bytes = 0;
  uint64_t errors = 0;
};

std::unique_ptr<proto::BenchStream::Stub> NewStub(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxMessageBytes);
  args.SetMaxSendMessageSize(kMaxMessageBytes);
  // Its own connection, not one shared with the other threads' channels.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto channel = grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
  channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10));
  return proto::BenchStream::NewStub(channel);
}

void SourceStream(const std::string& address, const StreamCeilingOptions& options,
                  StreamTally* tally) {
  auto stub = NewStub(address);
  grpc::ClientContext context;
  proto::SourceRequest request;
  request.set_total_bytes(options.total_bytes);
  request.set_message_bytes(options.message_bytes);
  auto reader = stub->Source(&context, request);
  proto::Piece piece;
  auto before = SteadyClock::now();
  while (reader->Read(&piece)) {
    const auto after = SteadyClock::now();
    tally->latencies.Add(
        std::chrono::duration_cast<std::chrono::microseconds>(after - before).count());
    tally->bytes += piece.data().size();
    before = after;
  }
  const grpc::Status status = reader->Finish();
  if (!status.ok() || tally->bytes != options.total_bytes) {
    LOG(ERROR) << "gfs-bench: stream_source: " << status.error_message() << " (got " << tally->bytes
               << " of " << options.total_bytes << " bytes)";
    ++tally->errors;
  }
}

void SinkStream(const std::string& address, const StreamCeilingOptions& options,
                StreamTally* tally) {
  auto stub = NewStub(address);
  grpc::ClientContext context;
  proto::SinkSummary summary;
  auto writer = stub->Sink(&context, &summary);
  proto::Piece piece;
  piece.mutable_data()->assign(options.message_bytes, 'y');
  uint64_t sent = 0;
  while (sent < options.total_bytes) {
    const uint64_t n = std::min<uint64_t>(options.message_bytes, options.total_bytes - sent);
    if (n < options.message_bytes) piece.mutable_data()->resize(n);
    const auto before = SteadyClock::now();
    if (!writer->Write(piece)) break;
    tally->latencies.Add(
        std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - before).count());
    sent += n;
  }
  writer->WritesDone();
  const grpc::Status status = writer->Finish();
  if (!status.ok() || summary.bytes() != options.total_bytes) {
    LOG(ERROR) << "gfs-bench: stream_sink: " << status.error_message() << " (server got "
               << summary.bytes() << " of " << options.total_bytes << " bytes)";
    ++tally->errors;
    return;
  }
  tally->bytes = summary.bytes();
}

BenchResult RunDirection(const std::string& name, const ServerProcess& server,
                         const StreamCeilingOptions& options,
                         void (*stream)(const std::string&, const StreamCeilingOptions&,
                                        StreamTally*)) {
  std::vector<StreamTally> tallies(options.threads);
  const double server_cpu_before = ProcessCpuSeconds(server.pid());
  const double self_cpu_before = SelfCpuSeconds();
  const auto start = SteadyClock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < options.threads; ++t) {
    threads.emplace_back([&, t] { stream(server.address(), options, &tallies[t]); });
  }
  for (auto& thread : threads) thread.join();
  BenchResult result;
  result.workload = name;
  result.threads = options.threads;
  result.seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
  const double server_cpu_after = ProcessCpuSeconds(server.pid());
  if (server_cpu_before >= 0 && server_cpu_after >= 0) {
    result.daemon_cpu_seconds = server_cpu_after - server_cpu_before;
  }
  result.client_cpu_seconds = SelfCpuSeconds() - self_cpu_before;
  LatencyRecorder all;
  for (StreamTally& tally : tallies) {
    all.Merge(tally.latencies);
    result.bytes += tally.bytes;
    result.errors += tally.errors;
  }
  result.ops = all.size();
  result.p50_us = all.Quantile(0.50);
  result.p99_us = all.Quantile(0.99);
  result.note = "bare gRPC stream to a second process, op = one " +
                std::to_string(options.message_bytes >> 10) +
                " KiB message; cpu_s/GiB is the server process's";
  return result;
}

}  // namespace

int RunStreamServer(const std::string& address) {
  // Do not outlive the gfs-bench that started this server.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  BenchStreamService service;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &port);
  ConfigureServerBuilder(&builder);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port <= 0) {
    std::cerr << "gfs-bench: cannot serve on " << address << "\n";
    return 1;
  }
  std::cout << port << std::endl;
  server->Wait();
  return 0;
}

Result<std::vector<BenchResult>> RunStreamCeiling(const StreamCeilingOptions& options) {
  if (options.message_bytes == 0 || options.message_bytes > (32u << 20)) {
    return Status::InvalidArgument("stream_ceiling: message size must be 1 byte to 32 MiB");
  }
  GFS_ASSIGN_OR_RETURN(std::unique_ptr<ServerProcess> server, ServerProcess::Start());
  std::vector<BenchResult> results;
  results.push_back(RunDirection("stream_source", *server, options, &SourceStream));
  results.push_back(RunDirection("stream_sink", *server, options, &SinkStream));
  return results;
}

}  // namespace gfs::bench
