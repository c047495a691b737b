// The client's connection to the master list: deadlines on every attempt, retry with
// exponential backoff and jitter while the master is UNAVAILABLE, moving on to the next
// address of the list after each failed attempt.
//
// Thread-safe.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gfs/client.h"
#include "gfs/status.h"
#include "protos/master.grpc.pb.h"

namespace gfs::client {

class MasterChannel {
 public:
  using Stub = proto::MasterService::Stub;
  // One attempt of an RPC on `stub` with `ctx` (whose deadline is already set).
  using Rpc = std::function<grpc::Status(Stub* stub, grpc::ClientContext* ctx)>;

  // Parses the comma-separated `masters` list. Returns InvalidArgument when it is empty
  // or an entry is not HOST:PORT.
  static Result<std::unique_ptr<MasterChannel>> Create(const std::string& masters,
                                                       const ClientOptions& options);

  // Runs `rpc` until it returns anything but UNAVAILABLE or the operation deadline
  // passes. `what` names the operation in the final error ("mkdir /a").
  Status Call(const std::string& what, const Rpc& rpc);

 private:
  MasterChannel(std::vector<std::string> addresses, ClientOptions options);

  const std::vector<std::string> addresses_;
  const ClientOptions options_;
  // One per address; const after construction.
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::unique_ptr<Stub>> stubs_;
  std::atomic<size_t> current_{0};  // the address tried first
};

}  // namespace gfs::client
