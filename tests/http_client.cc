#include "tests/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "common/http_server.h"

namespace gfs::testing {

using SteadyClock = std::chrono::steady_clock;

std::string HttpResponse::Header(const std::string& name) const {
  size_t pos = head.find("\r\n");
  while (pos != std::string::npos && pos + 2 < head.size()) {
    const size_t start = pos + 2;
    const size_t end = head.find("\r\n", start);
    const std::string line = head.substr(start, end == std::string::npos ? end : end - start);
    const size_t colon = line.find(':');
    if (colon == name.size() && strncasecmp(line.c_str(), name.c_str(), name.size()) == 0) {
      const size_t value = line.find_first_not_of(' ', colon + 1);
      return value == std::string::npos ? "" : line.substr(value);
    }
    pos = end;
  }
  return "";
}

Result<int> ConnectTcp(const std::string& address) {
  std::string host;
  int port = 0;
  GFS_RETURN_IF_ERROR(ParseHostPort(address, &host, &port));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    return Status::InvalidArgument("'" + host + "' is not an IPv4 address");
  }
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::Unavailable(std::string("socket: ") + std::strerror(errno));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    const int err = errno;
    close(fd);
    return Status::Unavailable("connecting to " + address + ": " + std::strerror(err));
  }
  return fd;
}

Result<std::string> ReadUntilClosed(int fd, std::chrono::milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  std::string out;
  while (true) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
    if (left.count() <= 0) {
      return Status::DeadlineExceeded("connection still open after " +
                                      std::to_string(timeout.count()) + " ms; got " +
                                      std::to_string(out.size()) + " bytes");
    }
    pollfd p{fd, POLLIN, 0};
    const int ready = poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR) {
      return Status::Unavailable(std::string("poll: ") + std::strerror(errno));
    }
    if (ready <= 0) continue;
    char buf[4096];
    const ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n == 0) return out;
    if (n < 0) {
      if (errno == EINTR) continue;
      if (!out.empty()) return out;
      return Status::Unavailable(std::string("recv: ") + std::strerror(errno));
    }
    out.append(buf, n);
  }
}

Result<std::string> HttpExchange(const std::string& address, const std::string& request,
                                 std::chrono::milliseconds timeout) {
  GFS_ASSIGN_OR_RETURN(const int fd, ConnectTcp(address));
  size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the server may answer and close before taking everything
    sent += n;
  }
  Result<std::string> reply = ReadUntilClosed(fd, timeout);
  close(fd);
  return reply;
}

Result<HttpResponse> ParseHttpResponse(const std::string& raw) {
  const size_t head_end = raw.find("\r\n\r\n");
  if (raw.compare(0, 7, "HTTP/1.") != 0 || raw.size() < 12 || head_end == std::string::npos) {
    return Status::InvalidArgument("not an HTTP reply: '" + raw.substr(0, 200) + "'");
  }
  HttpResponse response;
  response.status = std::atoi(raw.c_str() + 9);
  response.head = raw.substr(0, head_end);
  response.body = raw.substr(head_end + 4);
  return response;
}

Result<HttpResponse> HttpRequest(const std::string& address, const std::string& request,
                                 std::chrono::milliseconds timeout) {
  GFS_ASSIGN_OR_RETURN(const std::string raw, HttpExchange(address, request, timeout));
  return ParseHttpResponse(raw);
}

Result<HttpResponse> HttpGet(const std::string& address, const std::string& path,
                             std::chrono::milliseconds timeout) {
  return HttpRequest(address, "GET " + path + " HTTP/1.1\r\nHost: " + address + "\r\n\r\n",
                     timeout);
}

}  // namespace gfs::testing
