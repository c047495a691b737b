// How every gfs process opens a channel to another: reconnecting within a second once
// the peer is back (gRPC's default reconnect backoff grows to two minutes, far too slow
// after a daemon restart), and with room for data messages. Insecure until gfs has
// authentication; this is the one place to change when it does.
#pragma once

#include <grpcpp/channel.h>

#include <memory>
#include <string>

namespace gfs {

// The largest message a gfs channel or server accepts (a read or a pushed piece is far
// smaller; this leaves headroom).
inline constexpr int kMaxMessageBytes = 64 << 20;

std::shared_ptr<grpc::Channel> NewChannel(const std::string& address);

}  // namespace gfs
