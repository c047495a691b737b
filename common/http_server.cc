#include "common/http_server.h"

#include <arpa/inet.h>
#include <glog/logging.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace gfs {

namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr size_t kReadPieceBytes = 4096;
// After the reply, what the client still sends is read and dropped (closing a socket
// with unread input resets the connection, which can destroy the reply in flight), up
// to this much.
constexpr size_t kMaxDrainBytes = 64 * 1024;
// How long accepting pauses after accept() ran out of descriptors or memory.
constexpr auto kAcceptPause = std::chrono::milliseconds(100);

struct Connection {
  enum class Phase { kReading, kWriting, kDraining };
  int fd = -1;
  Phase phase = Phase::kReading;
  std::string in;
  std::string out;
  size_t written = 0;
  size_t drained = 0;
  SteadyClock::time_point deadline;
};

const char* Reason(int code) {
  switch (code) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 431:
      return "Request Header Fields Too Large";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

std::string MakeReply(int code, const std::string& content_type, const std::string& body,
                      const std::string& extra_headers = "") {
  std::string reply = "HTTP/1.1 " + std::to_string(code) + " " + Reason(code) + "\r\n";
  reply += "Content-Type: " + content_type + "\r\n";
  reply += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  reply += extra_headers;
  reply += "Connection: close\r\n\r\n";
  reply += body;
  return reply;
}

std::string ErrorReply(int code, const std::string& extra_headers = "") {
  return MakeReply(code, "text/plain; charset=utf-8",
                   std::to_string(code) + " " + Reason(code) + "\n", extra_headers);
}

// The length of the request head in `in` (through the blank line ending it), or 0 if
// it is not complete yet. Bare LF line ends are accepted too.
size_t HeadLength(const std::string& in) {
  const size_t crlf = in.find("\r\n\r\n");
  const size_t lf = in.find("\n\n");
  if (crlf == std::string::npos && lf == std::string::npos) return 0;
  if (lf == std::string::npos || (crlf != std::string::npos && crlf < lf)) return crlf + 4;
  return lf + 2;
}

}  // namespace

Status ParseHostPort(const std::string& address, std::string* host, int* port) {
  const size_t colon = address.rfind(':');
  const Status invalid = Status::InvalidArgument("'" + address + "' is not HOST:PORT");
  if (colon == std::string::npos) return invalid;
  std::string h = address.substr(0, colon);
  const std::string p = address.substr(colon + 1);
  const auto is_digit = [](char ch) { return ch >= '0' && ch <= '9'; };
  if (p.empty() || p.size() > 5 || !std::all_of(p.begin(), p.end(), is_digit)) return invalid;
  const int n = std::stoi(p);
  if (n > 65535) return invalid;
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') {
    h = h.substr(1, h.size() - 2);
  } else if (h.find(':') != std::string::npos) {
    return invalid;  // an IPv6 address must be bracketed
  }
  *host = std::move(h);
  *port = n;
  return Status::OK();
}

HttpServer::HttpServer(HttpServerOptions options) : options_(std::move(options)) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Register(const std::string& path, HttpHandler handler) {
  CHECK(!thread_.joinable()) << "HttpServer::Register after Start";
  handlers_[path] = std::move(handler);
}

Status HttpServer::Start() {
  CHECK(!thread_.joinable() && listen_fd_ < 0) << "HttpServer::Start called twice";
  std::string host;
  int port = 0;
  GFS_RETURN_IF_ERROR(ParseHostPort(options_.listen, &host, &port));
  const std::string context = "cannot serve HTTP on " + options_.listen;

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* addresses = nullptr;
  const int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), std::to_string(port).c_str(),
                             &hints, &addresses);
  if (rc != 0) return Status::Unavailable(context + ": " + gai_strerror(rc));
  std::string failure = "no address";
  for (addrinfo* ai = addresses; ai != nullptr && listen_fd_ < 0; ai = ai->ai_next) {
    const int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      failure = std::string("socket: ") + std::strerror(errno);
      continue;
    }
    // Lets a restarted daemon bind while old connections linger in TIME_WAIT; Linux
    // still refuses a port another socket listens on.
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      failure = std::string("bind: ") + std::strerror(errno);
    } else if (listen(fd, 64) != 0) {
      failure = std::string("listen: ") + std::strerror(errno);
    } else {
      listen_fd_ = fd;
      break;
    }
    close(fd);
  }
  freeaddrinfo(addresses);
  if (listen_fd_ < 0) return Status::Unavailable(context + ": " + failure);

  sockaddr_storage bound{};
  socklen_t len = sizeof(bound);
  if (getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&bound), &len) != 0) {
    const int err = errno;
    Stop();
    return Status::Unavailable(context + ": getsockname: " + std::strerror(err));
  }
  const int bound_port = bound.ss_family == AF_INET6
                             ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                             : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) {
    const int err = errno;
    Stop();
    return Status::Unavailable(context + ": eventfd: " + std::strerror(err));
  }
  port_ = bound_port;
  thread_ = std::thread([this] { Run(); });
  return Status::OK();
}

void HttpServer::Stop() {
  if (thread_.joinable()) {
    const uint64_t one = 1;
    // An eventfd write of 1 cannot block or fail short of overflow.
    if (write(wake_fd_, &one, sizeof(one)) != sizeof(one)) PLOG(ERROR) << "eventfd write";
    thread_.join();
  }
  if (listen_fd_ >= 0) close(listen_fd_);
  if (wake_fd_ >= 0) close(wake_fd_);
  listen_fd_ = -1;
  wake_fd_ = -1;
}

std::string HttpServer::Respond(const std::string& head) const {
  // Request line: METHOD SP TARGET SP HTTP/1.x
  const std::string line = head.substr(0, head.find_first_of("\r\n"));
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == std::string::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string::npos || sp1 == 0 || sp2 == sp1 + 1) return ErrorReply(400);
  const std::string version = line.substr(sp2 + 1);
  if (version != "HTTP/1.0" && version != "HTTP/1.1") return ErrorReply(400);
  const std::string method = line.substr(0, sp1);
  const std::string target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (method != "GET") return ErrorReply(405, "Allow: GET\r\n");
  auto it = handlers_.find(target.substr(0, target.find('?')));
  if (it == handlers_.end()) return ErrorReply(404);
  HttpReply reply = it->second();
  return MakeReply(200, reply.content_type, reply.body);
}

void HttpServer::Run() {
  std::vector<Connection> conns;
  SteadyClock::time_point accept_paused_until;
  bool warned_accept = false;
  std::vector<pollfd> fds;
  while (true) {
    auto now = SteadyClock::now();
    const bool accepting = now >= accept_paused_until;
    fds.clear();
    fds.push_back({wake_fd_, POLLIN, 0});
    // poll() skips negative descriptors.
    fds.push_back({accepting ? listen_fd_ : -1, POLLIN, 0});
    SteadyClock::time_point wake_at =
        accepting ? SteadyClock::time_point::max() : accept_paused_until;
    for (const Connection& c : conns) {
      fds.push_back(
          {c.fd, static_cast<short>(c.phase == Connection::Phase::kWriting ? POLLOUT : POLLIN), 0});
      wake_at = std::min(wake_at, c.deadline);
    }
    int timeout_ms = -1;
    if (wake_at <= now) {
      timeout_ms = 0;
    } else if (wake_at != SteadyClock::time_point::max()) {
      const auto wait = std::chrono::ceil<std::chrono::milliseconds>(wake_at - now);
      timeout_ms = static_cast<int>(std::min<int64_t>(wait.count(), 60'000));
    }
    if (poll(fds.data(), fds.size(), timeout_ms) < 0) {
      if (errno != EINTR) {
        PLOG(ERROR) << "HTTP server on " << options_.listen << ": poll";
        std::this_thread::sleep_for(kAcceptPause);  // no busy loop
      }
      continue;
    }
    if (fds[0].revents != 0) break;  // Stop()
    now = SteadyClock::now();

    // Every connection polled above has its pollfd at index i + 2; connections
    // accepted below are appended after them.
    std::vector<bool> done(conns.size(), false);
    for (size_t i = 0; i < conns.size(); ++i) {
      Connection& c = conns[i];
      const short revents = fds[i + 2].revents;
      if (revents == 0) continue;
      if (c.phase == Connection::Phase::kReading) {
        char buf[kReadPieceBytes];
        const size_t room = options_.max_request_bytes + 1 - c.in.size();
        const ssize_t n = recv(c.fd, buf, std::min(room, sizeof(buf)), 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (n <= 0) {
          done[i] = true;  // closed or failed before a whole request arrived
          continue;
        }
        c.in.append(buf, n);
        const size_t head = HeadLength(c.in);
        if (head > 0 && head <= options_.max_request_bytes) {
          c.out = Respond(c.in.substr(0, head));
        } else if (c.in.size() > options_.max_request_bytes) {
          c.out = ErrorReply(431);
        } else {
          continue;
        }
        c.in.clear();
        c.phase = Connection::Phase::kWriting;
        c.deadline = now + options_.io_timeout;
      } else if (c.phase == Connection::Phase::kWriting) {
        const ssize_t n =
            send(c.fd, c.out.data() + c.written, c.out.size() - c.written, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (n < 0) {
          done[i] = true;
          continue;
        }
        c.written += n;
        if (c.written == c.out.size()) {
          shutdown(c.fd, SHUT_WR);
          c.out.clear();
          c.phase = Connection::Phase::kDraining;
          c.deadline = now + options_.io_timeout;
        }
      } else {
        char buf[kReadPieceBytes];
        const ssize_t n = recv(c.fd, buf, sizeof(buf), 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        c.drained += std::max<ssize_t>(n, 0);
        if (n <= 0 || c.drained > kMaxDrainBytes) done[i] = true;
      }
    }
    for (size_t i = 0; i < conns.size(); ++i) {
      if (conns[i].deadline <= now) done[i] = true;
    }
    size_t kept = 0;
    for (size_t i = 0; i < conns.size(); ++i) {
      if (done[i]) {
        close(conns[i].fd);
        continue;
      }
      if (kept != i) conns[kept] = std::move(conns[i]);  // a self-move would empty strings
      ++kept;
    }
    conns.resize(kept);

    if (accepting && fds[1].revents != 0) {
      while (true) {
        const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
          if (errno == EAGAIN || errno == EWOULDBLOCK) break;
          if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) continue;
          // Out of descriptors or memory: the listening socket stays readable, so
          // pause rather than spin, and say so once until accepting works again.
          if (!warned_accept) {
            PLOG(WARNING) << "HTTP server on " << options_.listen << ": accept";
            warned_accept = true;
          }
          accept_paused_until = now + kAcceptPause;
          break;
        }
        warned_accept = false;
        if (conns.size() >= options_.max_connections) {
          // Best effort: the socket is new, so its send buffer takes the short reply.
          const std::string busy = ErrorReply(503);
          send(fd, busy.data(), busy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
          close(fd);
          continue;
        }
        Connection c;
        c.fd = fd;
        c.deadline = now + options_.io_timeout;
        conns.push_back(std::move(c));
      }
    }
  }
  for (Connection& c : conns) close(c.fd);
}

}  // namespace gfs
