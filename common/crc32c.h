// CRC-32C (Castagnoli), the checksum of every 64 KiB block of chunk data.
// Uses the SSE4.2 crc32 instruction when the CPU has it, a table otherwise; both give
// identical results.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace gfs::crc32c {

// Returns the CRC-32C of `data`, continuing from `init` (the CRC of the bytes before
// it; 0 to start). Extend(Extend(0, a), b) == Value(a + b).
uint32_t Extend(uint32_t init, const char* data, size_t n);

inline uint32_t Value(const char* data, size_t n) { return Extend(0, data, n); }
inline uint32_t Value(std::string_view data) { return Extend(0, data.data(), data.size()); }

// True when the hardware instruction is in use.
bool IsHardwareAccelerated();

namespace internal {
// The table implementation, whatever the CPU; exposed so tests can compare it with the
// hardware path.
uint32_t ExtendPortable(uint32_t init, const char* data, size_t n);
}  // namespace internal

}  // namespace gfs::crc32c
