#include "chunkserver/read_server.h"

#include <glog/logging.h>
#include <grpcpp/support/proto_buffer_reader.h>

#include "common/grpc_status.h"

namespace gfs::chunkserver {

// One ReadChunk call, from being requested to its reply having gone out.
class ReadCall {
 public:
  explicit ReadCall(ReadServer* server)
      : server_(server), service_(server->service_), cq_(server->cq_), responder_(&ctx_) {
    service_->RequestReadChunk(&ctx_, &request_, &responder_, cq_, cq_, this);
  }

  // Called with each event of this call off the queue. Deletes itself when done.
  void Proceed(bool ok) {
    if (replied_ || !ok) {
      // The reply went out (or could not), or the server is shutting down and the
      // request never came.
      delete this;
      return;
    }
    if (server_->BeginServe()) new ReadCall(server_);  // the next call, meanwhile
    grpc::ByteBuffer response;
    grpc::Status status = Serve(&response);
    replied_ = true;
    // Once Finish is called, another thread may take its completion and delete this.
    ReadServer* const server = server_;
    if (status.ok()) {
      responder_.Finish(response, status, this);
    } else {
      responder_.FinishWithError(status, this);
    }
    server->EndServe();
  }

 private:
  grpc::Status Serve(grpc::ByteBuffer* response) {
    proto::ReadChunkRequest req;
    grpc::ProtoBufferReader reader(&request_);
    if (!req.ParseFromZeroCopyStream(&reader)) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "read request does not parse");
    }
    return service_->ServeRead(req, response);
  }

  ReadServer* const server_;
  ChunkServerServiceImpl* const service_;
  grpc::ServerCompletionQueue* const cq_;
  grpc::ServerContext ctx_;
  grpc::ByteBuffer request_;
  grpc::ServerAsyncResponseWriter<grpc::ByteBuffer> responder_;
  bool replied_ = false;
};

ReadServer::ReadServer(ChunkServerServiceImpl* service, grpc::ServerCompletionQueue* cq,
                       int threads)
    : service_(service), cq_(cq), threads_(std::max(threads, 1)) {}

ReadServer::~ReadServer() { Shutdown(); }

void ReadServer::Start() {
  for (int i = 0; i < threads_; ++i) {
    new ReadCall(this);
    workers_.emplace_back([this] { Loop(); });
  }
}

bool ReadServer::BeginServe() {
  MutexLock lock(&mu_);
  ++serving_;
  return !stopping_;
}

void ReadServer::EndServe() {
  MutexLock lock(&mu_);
  if (--serving_ == 0) idle_.SignalAll();
}

void ReadServer::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  {
    // Reads under way end by themselves (a disk read); their replies must be queued
    // before the queue shuts down.
    MutexLock lock(&mu_);
    stopping_ = true;
    while (serving_ > 0) idle_.Wait();
  }
  cq_->Shutdown();
  for (std::thread& t : workers_) t.join();
  workers_.clear();
}

void ReadServer::Loop() {
  void* tag = nullptr;
  bool ok = false;
  // Next returns false once the queue is shut down and drained.
  while (cq_->Next(&tag, &ok)) static_cast<ReadCall*>(tag)->Proceed(ok);
}

}  // namespace gfs::chunkserver
