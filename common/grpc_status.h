// The one place where gfs::Status and grpc::Status meet. Codes are numerically equal
// (gfs/status.h), so conversion keeps the code and the message.
#pragma once

#include <grpcpp/support/status.h>

#include "gfs/status.h"

namespace gfs {

grpc::Status ToGrpc(const Status& status);
Status FromGrpc(const grpc::Status& status);

}  // namespace gfs
