#include "client/master_channel.h"

#include <algorithm>
#include <chrono>
#include <random>
#include <sstream>
#include <thread>

#include "common/grpc_channel.h"
#include "common/grpc_status.h"

namespace gfs::client {
namespace {

using Clock = std::chrono::steady_clock;

std::chrono::milliseconds Jitter(std::chrono::milliseconds pause) {
  thread_local std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int64_t> dist(pause.count() / 2, pause.count());
  return std::chrono::milliseconds(dist(rng));
}

bool LooksLikeHostPort(const std::string& address) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) return false;
  for (size_t i = colon + 1; i < address.size(); ++i) {
    if (address[i] < '0' || address[i] > '9') return false;
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<MasterChannel>> MasterChannel::Create(const std::string& masters,
                                                             const ClientOptions& options) {
  std::vector<std::string> addresses;
  std::stringstream list(masters);
  std::string address;
  while (std::getline(list, address, ',')) {
    if (address.empty()) continue;
    if (!LooksLikeHostPort(address)) {
      return Status::InvalidArgument("master address '" + address + "' is not HOST:PORT");
    }
    addresses.push_back(address);
  }
  if (addresses.empty()) return Status::InvalidArgument("no master address given");
  return std::unique_ptr<MasterChannel>(new MasterChannel(std::move(addresses), options));
}

MasterChannel::MasterChannel(std::vector<std::string> addresses, ClientOptions options)
    : addresses_(std::move(addresses)), options_(options) {
  for (const std::string& address : addresses_) {
    channels_.push_back(NewChannel(address));
    stubs_.push_back(proto::MasterService::NewStub(channels_.back()));
  }
}

Status MasterChannel::Call(const std::string& what, const Rpc& rpc) {
  const Clock::time_point deadline = Clock::now() + options_.operation_timeout;
  std::chrono::milliseconds pause = options_.initial_backoff;
  int attempts = 0;
  while (true) {
    const size_t index = current_.load() % stubs_.size();
    grpc::ClientContext ctx;
    const auto attempt_timeout =
        std::min<Clock::duration>(deadline - Clock::now(), options_.rpc_timeout);
    ctx.set_deadline(std::chrono::system_clock::now() + attempt_timeout);
    Status status = FromGrpc(rpc(stubs_[index].get(), &ctx));
    ++attempts;
    if (!status.IsUnavailable()) return status;

    // This master did not answer: the next attempt goes to the next one in the list.
    size_t expected = index;
    current_.compare_exchange_strong(expected, index + 1);
    const auto now = Clock::now();
    if (now + pause >= deadline) {
      return Status::Unavailable(what + ": no master answered (" + std::to_string(attempts) +
                                 " attempts, last " + addresses_[index] + "): " + status.message());
    }
    // Pause. While the next master is not connected, wait on its reconnect instead of
    // sleeping: a plain sleep leaves nobody polling the reconnect, and gRPC would notice
    // it only seconds later. A connected master that answered UNAVAILABLE on purpose
    // (no lease yet) gets a plain backoff.
    const size_t next = (index + 1) % channels_.size();
    const auto wake = std::chrono::system_clock::now() + Jitter(pause);
    if (channels_[next]->GetState(/*try_to_connect=*/true) == GRPC_CHANNEL_READY) {
      std::this_thread::sleep_until(wake);
    } else {
      channels_[next]->WaitForConnected(wake);
    }
    pause = std::min(pause * 2, options_.max_backoff);
  }
}

}  // namespace gfs::client
