#include "client/chunkserver_pool.h"

#include <unistd.h>

namespace gfs::client {

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
