#include "master/meta_keys.h"

namespace gfs::master {

void PutBigEndian64(std::string* out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

uint64_t GetBigEndian64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

std::string DentryPrefix(uint64_t parent_id) {
  std::string key(1, 'd');
  PutBigEndian64(&key, parent_id);
  return key;
}

std::string DentryKey(uint64_t parent_id, std::string_view name) {
  std::string key = DentryPrefix(parent_id);
  key.append(name);
  return key;
}

std::string InodeKey(uint64_t inode_id) {
  std::string key(1, 'i');
  PutBigEndian64(&key, inode_id);
  return key;
}

std::string FileChunkPrefix(uint64_t inode_id) {
  std::string key(1, 'f');
  PutBigEndian64(&key, inode_id);
  return key;
}

std::string FileChunkKey(uint64_t inode_id, uint64_t index) {
  std::string key = FileChunkPrefix(inode_id);
  PutBigEndian64(&key, index);
  return key;
}

std::string ChunkKey(uint64_t handle) {
  std::string key(1, 'h');
  PutBigEndian64(&key, handle);
  return key;
}

std::string TrashPrefix() { return "t"; }

std::string TrashKey(int64_t deleted_at_us, uint64_t inode_id) {
  std::string key = TrashPrefix();
  PutBigEndian64(&key, static_cast<uint64_t>(deleted_at_us));
  PutBigEndian64(&key, inode_id);
  return key;
}

std::string TrashByPathPrefix(std::string_view path) {
  std::string key(1, 'r');
  key.append(path);
  key.push_back('\0');
  return key;
}

std::string TrashByPathKey(std::string_view path, int64_t deleted_at_us, uint64_t inode_id) {
  std::string key = TrashByPathPrefix(path);
  PutBigEndian64(&key, static_cast<uint64_t>(deleted_at_us));
  PutBigEndian64(&key, inode_id);
  return key;
}

std::string NextChunkHandleKey() { return "mnext_chunk_handle"; }

std::string LogKey(uint64_t index) {
  std::string key(1, 'l');
  PutBigEndian64(&key, index);
  return key;
}

std::string LogPositionKey() { return "mlog_position"; }
std::string NextInodeIdKey() { return "mnext_inode_id"; }

std::string_view DentryName(std::string_view key) { return key.substr(9); }

}  // namespace gfs::master
