#include "common/http_server.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "tests/http_client.h"
#include "tests/test_util.h"

namespace gfs {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::ConnectTcp;
using testing::HttpGet;
using testing::HttpRequest;
using testing::HttpResponse;
using testing::ParseHttpResponse;
using testing::ReadUntilClosed;

// An HttpServer on a free loopback port serving "hello\n" on /hello (and counting calls).
class HttpServerTest : public ::testing::Test {
 protected:
  void Start(HttpServerOptions options = {}) {
    options.listen = "127.0.0.1:0";
    server_ = std::make_unique<HttpServer>(options);
    server_->Register("/hello", [this] {
      ++calls_;
      return HttpReply{"text/plain", "hello\n"};
    });
    ASSERT_OK(server_->Start());
    ASSERT_GT(server_->port(), 0);
    address_ = "127.0.0.1:" + std::to_string(server_->port());
  }

  // A connected client socket, closed at the end of the test.
  int Connect() {
    Result<int> fd = ConnectTcp(address_);
    EXPECT_OK(fd);
    if (!fd.ok()) return -1;
    fds_.push_back(*fd);
    return *fd;
  }

  void TearDown() override {
    for (int fd : fds_) close(fd);
  }

  std::unique_ptr<HttpServer> server_;
  std::string address_;
  std::atomic<int> calls_{0};
  std::vector<int> fds_;
};

TEST_F(HttpServerTest, ServesRegisteredPath) {
  Start();
  Result<HttpResponse> r = HttpGet(address_, "/hello");
  ASSERT_OK(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello\n");
  EXPECT_EQ(r->Header("Content-Type"), "text/plain");
  EXPECT_EQ(r->Header("content-length"), "6");
  EXPECT_EQ(r->Header("Connection"), "close");
  // The query string does not take part in routing; each request calls the handler.
  r = HttpGet(address_, "/hello?x=1");
  ASSERT_OK(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(calls_.load(), 2);
}

TEST_F(HttpServerTest, UnknownPathIs404) {
  Start();
  Result<HttpResponse> r = HttpGet(address_, "/nope");
  ASSERT_OK(r);
  EXPECT_EQ(r->status, 404);
  r = HttpGet(address_, "/hello/");
  ASSERT_OK(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(calls_.load(), 0);
}

TEST_F(HttpServerTest, MethodOtherThanGetIs405) {
  Start();
  Result<HttpResponse> r =
      HttpRequest(address_, "POST /hello HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc");
  ASSERT_OK(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->Header("Allow"), "GET");
  EXPECT_EQ(calls_.load(), 0);
}

TEST_F(HttpServerTest, GarbageIs400) {
  Start();
  for (const std::string request : {"hello\r\n\r\n", "GET /hello SPDY/3\r\n\r\n", "\r\n\r\n"}) {
    Result<HttpResponse> r = HttpRequest(address_, request);
    ASSERT_OK(r);
    EXPECT_EQ(r->status, 400) << request;
  }
}

TEST_F(HttpServerTest, OversizedRequestIsRefused) {
  HttpServerOptions options;
  options.max_request_bytes = 1024;
  Start(options);
  const std::string big =
      "GET /hello HTTP/1.1\r\nX-Padding: " + std::string(2000, 'a') + "\r\n\r\n";
  Result<HttpResponse> r = HttpRequest(address_, big);
  ASSERT_OK(r);
  EXPECT_EQ(r->status, 431);
  EXPECT_EQ(calls_.load(), 0);
  // A request just under the limit is fine.
  const std::string fits =
      "GET /hello HTTP/1.1\r\nX-Padding: " + std::string(900, 'a') + "\r\n\r\n";
  r = HttpRequest(address_, fits);
  ASSERT_OK(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(HttpServerTest, SilentClientDoesNotHoldUpOthers) {
  HttpServerOptions options;
  options.io_timeout = seconds(60);
  Start(options);
  // One client that never finishes its request, one that sends nothing.
  const int partial = Connect();
  ASSERT_GE(partial, 0);
  ASSERT_EQ(send(partial, "GET /hel", 8, MSG_NOSIGNAL), 8);
  ASSERT_GE(Connect(), 0);
  // Served long before the silent clients' deadline (HttpGet gives up after 10 s).
  for (int i = 0; i < 3; ++i) {
    Result<HttpResponse> r = HttpGet(address_, "/hello");
    ASSERT_OK(r);
    EXPECT_EQ(r->status, 200);
  }
}

TEST_F(HttpServerTest, SilentClientIsClosedAtDeadline) {
  HttpServerOptions options;
  options.io_timeout = milliseconds(200);
  Start(options);
  const int fd = Connect();
  ASSERT_GE(fd, 0);
  // The server closes it without a reply once the deadline passed.
  Result<std::string> got = ReadUntilClosed(fd, seconds(10));
  ASSERT_OK(got);
  EXPECT_EQ(*got, "");
}

TEST_F(HttpServerTest, StopDoesNotWaitForSilentClients) {
  HttpServerOptions options;
  options.io_timeout = seconds(60);
  Start(options);
  const int fd = Connect();
  ASSERT_GE(fd, 0);
  // Served after the silent client was accepted (connections are accepted in order).
  ASSERT_OK(HttpGet(address_, "/hello"));
  const auto start = std::chrono::steady_clock::now();
  server_->Stop();
  // Far below the 60 s the silent client would have been given.
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(10));
  Result<std::string> got = ReadUntilClosed(fd, seconds(10));
  ASSERT_OK(got);
  EXPECT_EQ(*got, "");
  server_->Stop();                                              // idempotent
  ASSERT_CODE(ConnectTcp(address_), StatusCode::kUnavailable);  // no longer listening
}

TEST_F(HttpServerTest, ConnectionsBeyondTheLimitGet503) {
  HttpServerOptions options;
  options.max_connections = 2;
  options.io_timeout = seconds(60);
  Start(options);
  const int first = Connect();
  ASSERT_GE(first, 0);
  ASSERT_GE(Connect(), 0);
  // The third is accepted after the first two, which hold both slots.
  const int third = Connect();
  ASSERT_GE(third, 0);
  Result<std::string> raw = ReadUntilClosed(third, seconds(10));
  ASSERT_OK(raw);
  Result<HttpResponse> r = ParseHttpResponse(*raw);
  ASSERT_OK(r);
  EXPECT_EQ(r->status, 503);
  // A slot frees up when a client goes away.
  shutdown(first, SHUT_RDWR);
  ASSERT_EVENTUALLY(
      [&] {
        Result<HttpResponse> r = HttpGet(address_, "/hello");
        return r.ok() && r->status == 200;
      }(),
      seconds(10));
}

TEST_F(HttpServerTest, PortInUseIsAClearError) {
  Start();
  HttpServer second(HttpServerOptions{address_});
  Status s = second.Start();
  ASSERT_CODE(s, StatusCode::kUnavailable);
  EXPECT_NE(s.message().find(address_), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("Address already in use"), std::string::npos) << s.ToString();
  // The first one still serves.
  Result<HttpResponse> r = HttpGet(address_, "/hello");
  ASSERT_OK(r);
  EXPECT_EQ(r->status, 200);
}

TEST(HttpServerStartTest, BadAddressIsInvalidArgument) {
  for (const std::string bad :
       {"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:http", "127.0.0.1:65536", "::1:80"}) {
    HttpServer server(HttpServerOptions{bad});
    ASSERT_CODE(server.Start(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(HttpServerStartTest, StopWithoutStartIsANoOp) {
  HttpServer server(HttpServerOptions{"127.0.0.1:0"});
  server.Stop();
  EXPECT_EQ(server.port(), 0);
}

TEST(ParseHostPortTest, Forms) {
  std::string host;
  int port = -1;
  ASSERT_OK(ParseHostPort("127.0.0.1:7080", &host, &port));
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 7080);
  ASSERT_OK(ParseHostPort(":0", &host, &port));
  EXPECT_EQ(host, "");
  EXPECT_EQ(port, 0);
  ASSERT_OK(ParseHostPort("[::1]:65535", &host, &port));
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 65535);
  ASSERT_OK(ParseHostPort("localhost:80", &host, &port));
  EXPECT_EQ(host, "localhost");
}

}  // namespace
}  // namespace gfs
