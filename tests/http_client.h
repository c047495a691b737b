// A blocking HTTP/1.1 client for tests of the daemons' HTTP endpoints
// (common/http_server.h): one request per connection, read until the server closes.
#pragma once

#include <chrono>
#include <string>

#include "gfs/status.h"

namespace gfs::testing {

struct HttpResponse {
  int status = 0;
  // The status line and header lines, as received.
  std::string head;
  std::string body;

  // The value of header `name` (case-insensitive), or "" if absent.
  std::string Header(const std::string& name) const;
};

// Connects to "HOST:PORT" (a numeric IPv4 address). Returns the connected socket, which
// the caller closes. Unavailable if the connection fails.
Result<int> ConnectTcp(const std::string& address);

// Reads from `fd` until the peer closes it; returns what arrived. DeadlineExceeded if it
// is not closed within `timeout`; Unavailable on a read error with nothing read yet
// (after some bytes, a reset ends the read instead: the server may reset a connection
// after its reply).
Result<std::string> ReadUntilClosed(int fd, std::chrono::milliseconds timeout);

// Connects, sends `request` exactly as given, and reads until the server closes.
Result<std::string> HttpExchange(const std::string& address, const std::string& request,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Splits a raw reply into status, head and body. InvalidArgument if it is not HTTP/1.x.
Result<HttpResponse> ParseHttpResponse(const std::string& raw);

// Sends `request` exactly as given (HttpExchange) and parses the reply.
Result<HttpResponse> HttpRequest(const std::string& address, const std::string& request,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(10));

// GET `path` from the server at `address`.
Result<HttpResponse> HttpGet(const std::string& address, const std::string& path,
                             std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace gfs::testing
