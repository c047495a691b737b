// gfs-chunkserver: stores replicas of chunks and serves them.
#include <gflags/gflags.h>
#include <glog/logging.h>
#include <malloc.h>
#include <unistd.h>

#include "chunkserver/chunkserver_server.h"
#include "common/daemon.h"

DEFINE_string(listen, "0.0.0.0:7001", "HOST:PORT to serve RPCs on.");
DEFINE_string(http_listen, "",
              "HOST:PORT to serve Prometheus metrics (/metrics) and a status page (/) on over "
              "HTTP; empty: no HTTP.");
DEFINE_string(advertise, "",
              "HOST:PORT the master and clients should use; never 0.0.0.0. Default: the listen "
              "address, or this host's name and the port when listening on 0.0.0.0.");
DEFINE_string(master, "127.0.0.1:7000", "Master address(es), comma-separated.");
DEFINE_string(data_dir, "", "Directory of chunk files and chunk metadata. Required.");
DEFINE_string(rack, "default", "Failure-domain label used by the master for placement.");
DEFINE_int32(heartbeat_ms, 1000, "Heartbeat period in milliseconds.");
DEFINE_uint64(push_buffer_bytes, 512ull << 20,
              "Bytes of pushed data held waiting for their mutation; pushes past it are "
              "refused with RESOURCE_EXHAUSTED.");
DEFINE_int32(push_buffer_ttl_ms, 60000, "Pushed data no mutation used is dropped after this.");
DEFINE_uint64(max_chunk_bytes, 1ull << 30, "The largest chunk this server accepts.");

namespace {

// --advertise, or the listen address with 0.0.0.0 replaced by this host's name.
std::string AdvertisedAddress() {
  if (!FLAGS_advertise.empty()) return FLAGS_advertise;
  const std::string& listen = FLAGS_listen;
  const size_t colon = listen.rfind(':');
  const std::string host = colon == std::string::npos ? listen : listen.substr(0, colon);
  if (host != "0.0.0.0" && host != "[::]" && !host.empty()) return listen;
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) return "";
  return std::string(name) + listen.substr(colon);
}

}  // namespace

int main(int argc, char** argv) {
  gfs::InitDaemon(&argc, &argv,
                  "gfs-chunkserver --data_dir=DIR [--listen=HOST:PORT] [--master=HOST:PORT]");
  // Reads and pushes go through buffers of up to 8 MiB. By default glibc maps each one
  // fresh (and the kernel zero-fills it page by page) or returns freed heap to the
  // system soon after; keep them in the heap for reuse instead. The heap's high-water
  // mark stays bounded by the read pool and the push buffer.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  if (FLAGS_data_dir.empty()) {
    LOG(ERROR) << "--data_dir is required";
    return 2;
  }
  gfs::chunkserver::ChunkServerOptions options;
  options.listen = FLAGS_listen;
  options.http_listen = FLAGS_http_listen;
  options.advertise = AdvertisedAddress();
  if (options.advertise.rfind("0.0.0.0", 0) == 0 || options.advertise.empty()) {
    LOG(ERROR) << "refusing to advertise '" << options.advertise
               << "': clients cannot reach it; set --advertise=HOST:PORT";
    return 2;
  }
  options.masters = FLAGS_master;
  options.data_dir = FLAGS_data_dir;
  options.rack = FLAGS_rack;
  options.heartbeat_interval = std::chrono::milliseconds(FLAGS_heartbeat_ms);
  options.push_buffer_bytes = FLAGS_push_buffer_bytes;
  options.push_buffer_ttl = std::chrono::milliseconds(FLAGS_push_buffer_ttl_ms);
  options.max_chunk_bytes = FLAGS_max_chunk_bytes;

  gfs::chunkserver::ChunkServer server(options);
  if (gfs::Status s = server.Start(); !s.ok()) {
    LOG(ERROR) << "chunkserver failed to start: " << s.ToString();
    return 1;
  }
  int sig = gfs::WaitForTerminationSignal();
  LOG(INFO) << "signal " << sig << " received, shutting down";
  server.Shutdown();
  return 0;
}
