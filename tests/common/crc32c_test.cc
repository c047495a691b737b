#include "common/crc32c.h"

#include <glog/logging.h>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "tests/test_util.h"

namespace gfs::crc32c {
namespace {

struct Vector {
  std::string data;
  uint32_t crc;
};

std::vector<Vector> KnownVectors() {
  std::vector<Vector> v;
  v.push_back({std::string(32, '\0'), 0x8A9136AAu});    // RFC 3720 B.4
  v.push_back({std::string(32, '\xff'), 0x62A8AB43u});  // RFC 3720 B.4
  std::string up(32, '\0'), down(32, '\0');
  for (int i = 0; i < 32; ++i) {
    up[i] = static_cast<char>(i);
    down[i] = static_cast<char>(31 - i);
  }
  v.push_back({up, 0x46DD794Eu});    // RFC 3720 B.4
  v.push_back({down, 0x113FDB5Cu});  // RFC 3720 B.4
  v.push_back({"123456789", 0xE3069283u});
  v.push_back({"", 0u});
  return v;
}

TEST(Crc32cTest, KnownVectors) {
  for (const Vector& v : KnownVectors()) {
    EXPECT_EQ(Value(v.data), v.crc) << "size " << v.data.size();
    EXPECT_EQ(Value(v.data.data(), v.data.size()), v.crc);
    EXPECT_EQ(internal::ExtendPortable(0, v.data.data(), v.data.size()), v.crc);
  }
}

TEST(Crc32cTest, ExtendComposes) {
  const std::string s = "hello, chunk world: the quick brown fox jumps over the lazy dog";
  const uint32_t whole = Value(s);
  for (size_t split = 0; split <= s.size(); ++split) {
    EXPECT_EQ(Extend(Value(s.data(), split), s.data() + split, s.size() - split), whole)
        << "split at " << split;
    EXPECT_EQ(internal::ExtendPortable(internal::ExtendPortable(0, s.data(), split),
                                       s.data() + split, s.size() - split),
              whole);
  }
  EXPECT_EQ(Extend(Value("1234"), "56789", 5), 0xE3069283u);
}

TEST(Crc32cTest, DifferentDataDifferentCrc) {
  std::string a(65536, '\0');
  std::string b = a;
  b[40000] = 1;
  EXPECT_NE(Value(a), Value(b));
}

// The hardware path must agree with the table on every length and alignment, since
// checksums written by one machine are verified on another.
TEST(Crc32cTest, HardwareMatchesTable) {
  LOG(INFO) << "hardware accelerated: " << IsHardwareAccelerated();
  std::mt19937 rng(12345);
  std::string buf(70000, '\0');
  for (char& c : buf) c = static_cast<char>(rng());
  for (size_t align = 0; align < 16; ++align) {
    for (size_t len = 0; len < 300; ++len) {
      const char* p = buf.data() + align;
      ASSERT_EQ(Extend(0, p, len), internal::ExtendPortable(0, p, len))
          << "align " << align << " len " << len;
      ASSERT_EQ(Extend(0xDEADBEEFu, p, len), internal::ExtendPortable(0xDEADBEEFu, p, len));
    }
  }
  for (int i = 0; i < 200; ++i) {
    const size_t align = rng() % 64;
    const size_t len = rng() % (buf.size() - align);
    const char* p = buf.data() + align;
    ASSERT_EQ(Extend(0, p, len), internal::ExtendPortable(0, p, len))
        << "align " << align << " len " << len;
  }
  EXPECT_EQ(Extend(0, buf.data(), 65536), internal::ExtendPortable(0, buf.data(), 65536));
}

// The hardware path computes three streams of a stride (of under a KiB) at once and
// joins them; every length up to several strides, from every alignment within a word
// and with a non-zero start, must still match the table.
TEST(Crc32cTest, HardwareMatchesTableAcrossStrides) {
  if (!IsHardwareAccelerated()) GTEST_SKIP() << "no SSE4.2 here: only the table runs";
  std::mt19937 rng(54321);
  std::string buf(4096 + 8, '\0');
  for (char& c : buf) c = static_cast<char>(rng());
  for (size_t align = 0; align < 8; ++align) {
    for (size_t len = 0; len <= 4096; ++len) {
      const char* p = buf.data() + align;
      ASSERT_EQ(Extend(0x12345678u, p, len), internal::ExtendPortable(0x12345678u, p, len))
          << "align " << align << " len " << len;
    }
  }
  // One bit flipped anywhere changes the CRC (no stream is left out).
  const uint32_t clean = Value(buf.data(), 4096);
  for (size_t bit = 0; bit < 4096 * 8; bit += 13) {
    buf[bit / 8] ^= static_cast<char>(1 << (bit % 8));
    ASSERT_NE(Value(buf.data(), 4096), clean) << "bit " << bit;
    buf[bit / 8] ^= static_cast<char>(1 << (bit % 8));
  }
}

}  // namespace
}  // namespace gfs::crc32c
