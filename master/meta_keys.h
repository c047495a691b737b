// How the master lays its persistent state out in RocksDB's one key space.
//
//   'd' parent_id(8, big-endian) name  -> DentryRecord   (a directory's entries, sorted by
//                                                         name: listing is a prefix scan)
//   'f' inode_id(8) index(8)           -> handle(8)      (a file's chunks, in order)
//   'h' handle(8)                      -> ChunkRecord
//   't' deleted_at_us(8) inode_id(8)   -> TrashRecord    (the trash, oldest first)
//   'r' path 0x00 deleted_at_us(8) inode_id(8) -> ""     (the trash by original path)
//   'i' inode_id(8, big-endian)        -> InodeRecord
//   'l' index(8, big-endian)           -> LogEntry        (the bounded tail of the op log)
//   'm' name                           -> meta values     (log position, id counters)
//
// Big-endian ids make the byte order of keys the numeric order of ids.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace gfs::master {

inline constexpr uint64_t kRootInodeId = 1;

std::string DentryKey(uint64_t parent_id, std::string_view name);
// The prefix every dentry key of `parent_id` starts with.
std::string DentryPrefix(uint64_t parent_id);
std::string InodeKey(uint64_t inode_id);
std::string FileChunkKey(uint64_t inode_id, uint64_t index);
// The prefix every FileChunkKey of `inode_id` starts with.
std::string FileChunkPrefix(uint64_t inode_id);
std::string ChunkKey(uint64_t handle);
std::string TrashKey(int64_t deleted_at_us, uint64_t inode_id);
// The prefix of every trash key.
std::string TrashPrefix();
std::string TrashByPathKey(std::string_view path, int64_t deleted_at_us, uint64_t inode_id);
// The prefix of every TrashByPathKey of `path`.
std::string TrashByPathPrefix(std::string_view path);
// The key of the next unused chunk handle (8 bytes, big-endian).
std::string NextChunkHandleKey();
std::string LogKey(uint64_t index);
// The key of the op log's position (a LogPosition).
std::string LogPositionKey();
// The key of the next unused inode id (8 bytes, big-endian).
std::string NextInodeIdKey();

// Appends / reads 8 big-endian bytes.
void PutBigEndian64(std::string* out, uint64_t v);
uint64_t GetBigEndian64(const char* p);

// The name part of a dentry key. REQUIRES: `key` starts with DentryPrefix(...).
std::string_view DentryName(std::string_view key);

}  // namespace gfs::master
