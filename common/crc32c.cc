#include "common/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <nmmintrin.h>
#define GFS_CRC32C_X86 1
#endif

namespace gfs::crc32c {
namespace {

// Reflected Castagnoli polynomial.
constexpr uint32_t kPoly = 0x82F63B78u;

// Slicing-by-8 tables: kTables[k][b] is the CRC of byte b followed by k zero bytes, so
// eight table lookups consume eight input bytes at once. Built at compile time so there
// is no static-initialization order to worry about.
using Tables = std::array<std::array<uint32_t, 256>, 8>;

constexpr Tables MakeTables() {
  Tables t{};
  for (uint32_t b = 0; b < 256; ++b) {
    uint32_t crc = b;
    for (int i = 0; i < 8; ++i) crc = (crc >> 1) ^ ((crc & 1u) ? kPoly : 0u);
    t[0][b] = crc;
  }
  for (uint32_t b = 0; b < 256; ++b) {
    for (int k = 1; k < 8; ++k) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xFFu];
  }
  return t;
}

constexpr Tables kTables = MakeTables();

inline uint32_t LoadLE32(const unsigned char* p) {
  // Assembled byte by byte so the result does not depend on host endianness; compilers
  // turn this into a single load on little-endian targets.
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

#ifdef GFS_CRC32C_X86
#if defined(__x86_64__)
// The crc32 instruction takes three cycles but can start one per cycle, so one CRC
// computed 8 bytes at a time runs at a third of what the CPU can do. Three streams of
// kStreamBytes each are therefore computed at once, over consecutive thirds of a
// stride, and joined at the end of the stride. Joining uses linearity: the register
// after bytes B, started from r, is the register after B started from 0, XOR the
// register after len(B) zero bytes started from r (Shift below).
//
// Measured on 64 KiB blocks (one stream: 9.2 GB/s from memory, 9.5 from cache): 256-byte
// streams did 15-18 and 21-23 GB/s. Longer ones gained in cache (1 KiB: 24) but lost
// from memory (512 B and 1 KiB: 6-7 GB/s, below one stream), where chunk data usually is.
constexpr size_t kStreamBytes = 256;

// Shift(r): the CRC register r followed by kStreamBytes zero bytes. Linear in r, so it is
// four table lookups, one per byte of r.
struct ShiftTables {
  std::array<std::array<uint32_t, 256>, 4> t;
};

__attribute__((target("sse4.2"))) uint32_t ZeroBytes(uint32_t crc, size_t n) {
  uint64_t crc64 = crc;
  for (size_t i = 0; i < n / 8; ++i) crc64 = _mm_crc32_u64(crc64, 0);
  return static_cast<uint32_t>(crc64);
}

const ShiftTables& Shifts() {
  static const ShiftTables tables = [] {
    ShiftTables s{};
    for (int k = 0; k < 4; ++k) {
      for (uint32_t b = 0; b < 256; ++b) s.t[k][b] = ZeroBytes(b << (8 * k), kStreamBytes);
    }
    return s;
  }();
  return tables;
}

inline uint32_t Shift(const ShiftTables& s, uint32_t crc) {
  return s.t[0][crc & 0xFFu] ^ s.t[1][(crc >> 8) & 0xFFu] ^ s.t[2][(crc >> 16) & 0xFFu] ^
         s.t[3][crc >> 24];
}
#endif

// Only these functions are compiled for SSE4.2; the rest of the project is not, and
// they are called only after the runtime CPU check below.
__attribute__((target("sse4.2"))) uint32_t ExtendSse42(uint32_t init, const char* data, size_t n) {
  const auto* p = reinterpret_cast<const unsigned char*>(data);
  uint32_t crc = init ^ 0xFFFFFFFFu;
  // Align to 8 bytes so the 64-bit loads below never straddle a cache line.
  while (n > 0 && (reinterpret_cast<uintptr_t>(p) & 7u) != 0) {
    crc = _mm_crc32_u8(crc, *p++);
    --n;
  }
#if defined(__x86_64__)
  if (n >= 3 * kStreamBytes) {
    const ShiftTables& shifts = Shifts();
    while (n >= 3 * kStreamBytes) {
      uint64_t a = crc, b = 0, c = 0;
      const unsigned char* pb = p + kStreamBytes;
      const unsigned char* pc = p + 2 * kStreamBytes;
      for (size_t i = 0; i < kStreamBytes; i += 8) {
        uint64_t wa, wb, wc;
        std::memcpy(&wa, p + i, 8);
        std::memcpy(&wb, pb + i, 8);
        std::memcpy(&wc, pc + i, 8);
        a = _mm_crc32_u64(a, wa);
        b = _mm_crc32_u64(b, wb);
        c = _mm_crc32_u64(c, wc);
      }
      crc = Shift(shifts, Shift(shifts, static_cast<uint32_t>(a)) ^ static_cast<uint32_t>(b)) ^
            static_cast<uint32_t>(c);
      p += 3 * kStreamBytes;
      n -= 3 * kStreamBytes;
    }
  }
  uint64_t crc64 = crc;
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    crc64 = _mm_crc32_u64(crc64, w);
    p += 8;
    n -= 8;
  }
  crc = static_cast<uint32_t>(crc64);
#else
  while (n >= 4) {
    uint32_t w;
    std::memcpy(&w, p, 4);
    crc = _mm_crc32_u32(crc, w);
    p += 4;
    n -= 4;
  }
#endif
  while (n > 0) {
    crc = _mm_crc32_u8(crc, *p++);
    --n;
  }
  return crc ^ 0xFFFFFFFFu;
}

bool DetectSse42() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("sse4.2");
}
#endif  // GFS_CRC32C_X86

// Decided once; a function-local static is initialized thread-safely on first use.
bool UseHardware() {
#ifdef GFS_CRC32C_X86
  static const bool use = DetectSse42();
  return use;
#else
  return false;
#endif
}

}  // namespace

namespace internal {

uint32_t ExtendPortable(uint32_t init, const char* data, size_t n) {
  const auto* p = reinterpret_cast<const unsigned char*>(data);
  uint32_t crc = init ^ 0xFFFFFFFFu;
  while (n > 0 && (reinterpret_cast<uintptr_t>(p) & 3u) != 0) {
    crc = (crc >> 8) ^ kTables[0][(crc ^ *p++) & 0xFFu];
    --n;
  }
  while (n >= 8) {
    const uint32_t lo = LoadLE32(p) ^ crc;
    const uint32_t hi = LoadLE32(p + 4);
    crc = kTables[7][lo & 0xFFu] ^ kTables[6][(lo >> 8) & 0xFFu] ^ kTables[5][(lo >> 16) & 0xFFu] ^
          kTables[4][lo >> 24] ^ kTables[3][hi & 0xFFu] ^ kTables[2][(hi >> 8) & 0xFFu] ^
          kTables[1][(hi >> 16) & 0xFFu] ^ kTables[0][hi >> 24];
    p += 8;
    n -= 8;
  }
  while (n > 0) {
    crc = (crc >> 8) ^ kTables[0][(crc ^ *p++) & 0xFFu];
    --n;
  }
  return crc ^ 0xFFFFFFFFu;
}

}  // namespace internal

uint32_t Extend(uint32_t init, const char* data, size_t n) {
#ifdef GFS_CRC32C_X86
  if (UseHardware()) return ExtendSse42(init, data, n);
#endif
  return internal::ExtendPortable(init, data, n);
}

bool IsHardwareAccelerated() { return UseHardware(); }

}  // namespace gfs::crc32c
