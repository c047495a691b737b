// A minimal HTTP/1.1 server for a daemon's /metrics and status page: GET only, one
// request per connection, every resource bounded.
//
//   HttpServer http(HttpServerOptions{.listen = "127.0.0.1:0"});
//   http.Register("/metrics", [] { return HttpReply{"text/plain; version=0.0.4", Text()}; });
//   GFS_RETURN_IF_ERROR(http.Start());
//   ... http.port() ...
//   http.Stop();
//
// One thread does everything: it accepts, reads requests, runs handlers and writes
// replies, multiplexing connections with poll(), so a slow or silent client never
// holds up another one. Each connection gets `io_timeout` to send its request and again
// to take the reply, and is closed when either runs out. A request whose head (request
// line and headers) passes `max_request_bytes` gets 431; at most `max_connections` are
// open at once and a connection beyond that gets 503 at once. Answers: 200 with the
// handler's reply for a registered path (the query string is ignored), 404 for any other
// path, 405 for a method other than GET, 400 for a request that is not HTTP. Every reply
// carries Content-Length and `Connection: close`.
//
// Handlers run on the server thread one at a time: they must be quick and must not call
// back into the server.
//
// Register() before Start(); Start() once; Stop() is idempotent and joins the thread;
// port() is thread-safe after Start().
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <thread>

#include "gfs/status.h"

namespace gfs {

struct HttpServerOptions {
  // HOST:PORT to listen on, as for the RPC --listen flags: an IPv4 address, a host
  // name, `[IPv6]`, or an empty host for every interface. Port 0 picks a free port.
  std::string listen;
  // Connections open at once, at most; more get 503 Service Unavailable and are closed.
  size_t max_connections = 16;
  // Time a client has to send its request, and then to read the reply.
  std::chrono::milliseconds io_timeout{5000};
  // Largest request head accepted.
  size_t max_request_bytes = 16 * 1024;
};

// What a handler answers: the Content-Type header and the body, sent with status 200.
struct HttpReply {
  std::string content_type;
  std::string body;
};

using HttpHandler = std::function<HttpReply()>;

class HttpServer {
 public:
  explicit HttpServer(HttpServerOptions options);
  // Stop()s.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Serves `handler` for GET `path` (exact match, e.g. "/metrics"); replaces any handler
  // registered for it. REQUIRES: Start() not called yet.
  void Register(const std::string& path, HttpHandler handler);

  // Binds, listens and starts the server thread. InvalidArgument if `listen` is not
  // HOST:PORT; Unavailable naming the address and the reason (e.g. "Address already in
  // use") if it cannot be bound. REQUIRES: not started before.
  Status Start();

  // Closes the listening socket and every connection and joins the thread. Returns
  // within about one handler call. Idempotent; a no-op before Start().
  void Stop();

  // The port bound, useful with port 0. 0 before Start() succeeded.
  int port() const { return port_.load(); }

 private:
  // The server thread's loop, until Stop().
  void Run();
  // The whole reply to a request whose head (request line and headers) is `head`.
  std::string Respond(const std::string& head) const;

  const HttpServerOptions options_;
  // Filled before Start(), then read only by the server thread.
  std::map<std::string, HttpHandler> handlers_;
  std::atomic<int> port_{0};
  // Written to by Stop() to wake the server thread; -1 when not started.
  int wake_fd_ = -1;
  int listen_fd_ = -1;
  std::thread thread_;
};

// Splits "HOST:PORT" (HOST may be "[v6 address]" or empty) into host and port.
// InvalidArgument if there is no colon or the port is not a number in [0, 65535].
Status ParseHostPort(const std::string& address, std::string* host, int* port);

}  // namespace gfs
