// How every gfs daemon configures its gRPC server, the counterpart of grpc_channel.h.
#pragma once

#include <grpcpp/server_builder.h>

namespace gfs {

// Applies gfs's server settings to `builder`:
//  - the port is not shared (gRPC sets SO_REUSEPORT by default, which would let two
//    daemons listen on one port);
//  - messages up to kMaxMessageBytes;
//  - a pool of handler threads that stays warm. gRPC's synchronous server keeps at most
//    two idle pollers by default, so under more concurrent calls than that it starts and
//    ends a thread for nearly every call (measured: about 1,400 thread creations per
//    second at 5,000 mkdir/s). Handlers here block on fsyncs, disks and peers, so idle
//    threads are kept, up to kMaxIdleHandlerThreads, and all threads are capped at
//    kMaxHandlerThreads; a call beyond the cap fails with RESOURCE_EXHAUSTED.
void ConfigureServerBuilder(grpc::ServerBuilder* builder);

inline constexpr int kMaxIdleHandlerThreads = 64;
inline constexpr int kMaxHandlerThreads = 1024;

}  // namespace gfs
