#include "client/chunkserver_pool.h"

#include <unistd.h>

namespace gfs::client {

ChunkServerPool::Stub* ChunkServerPool::Get(const std::string& address) {
  MutexLock lock(&mu_);
  std::unique_ptr<Stub>& stub = stubs_[address];
  if (stub == nullptr) {
    grpc::ChannelArguments args;
    // As for the master (master_channel.cc): reconnect quickly once a restarted
    // chunkserver is back, instead of gRPC's default backoff of up to two minutes.
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
    args.SetMaxReceiveMessageSize(kMaxMessageBytes);
    args.SetMaxSendMessageSize(kMaxMessageBytes);
    stub = proto::ChunkServerService::NewStub(
        grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args));
  }
  return stub.get();
}

bool IsLocalAddress(const std::string& address) {
  std::string host = address;
  const size_t colon = host.rfind(':');
  if (colon != std::string::npos) host.resize(colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host == "127.0.0.1" || host == "localhost" || host == "::1") return true;
  static const std::string* const self = [] {
    char name[256] = {0};
    if (gethostname(name, sizeof(name) - 1) != 0) name[0] = '\0';
    return new std::string(name);
  }();
  return !self->empty() && host == *self;
}

}  // namespace gfs::client
