#include "common/grpc_server.h"

#include <grpcpp/resource_quota.h>

#include "common/grpc_channel.h"

namespace gfs {

void ConfigureServerBuilder(grpc::ServerBuilder* builder) {
  builder->AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder->SetMaxReceiveMessageSize(kMaxMessageBytes);
  builder->SetMaxSendMessageSize(kMaxMessageBytes);
  builder->SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MIN_POLLERS, 2);
  builder->SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS,
                               kMaxIdleHandlerThreads);
  grpc::ResourceQuota quota("gfs-server");
  quota.SetMaxThreads(kMaxHandlerThreads);
  builder->SetResourceQuota(quota);
}

}  // namespace gfs
