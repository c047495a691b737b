// Framed records: the scanner finds intact frames among padding, torn bytes and
// duplicates.
#include "gfs/records.h"

#include <gtest/gtest.h>

#include <vector>

namespace gfs {
namespace {

struct Found {
  std::string payload;
  uint64_t writer, sequence;
  size_t start;
};

std::vector<Found> ScanAll(std::string_view data) {
  std::vector<Found> out;
  size_t pos = 0;
  std::string_view payload;
  uint64_t writer = 0, sequence = 0;
  size_t start = 0;
  while (NextRecordFrame(data, &pos, &payload, &writer, &sequence, &start)) {
    out.push_back({std::string(payload), writer, sequence, start});
  }
  return out;
}

TEST(RecordsTest, FramesRoundTrip) {
  const std::string data = EncodeRecordFrame(7, 1, "hello") + EncodeRecordFrame(7, 2, "") +
                           EncodeRecordFrame(9, 1, std::string(1000, '\0'));
  std::vector<Found> found = ScanAll(data);
  ASSERT_EQ(found.size(), 3u);
  EXPECT_EQ(found[0].payload, "hello");
  EXPECT_EQ(found[0].writer, 7u);
  EXPECT_EQ(found[0].sequence, 1u);
  EXPECT_EQ(found[0].start, 0u);
  EXPECT_EQ(found[1].payload, "");
  EXPECT_EQ(found[1].start, kRecordFrameBytes + 5);
  EXPECT_EQ(found[2].payload, std::string(1000, '\0'));
}

TEST(RecordsTest, SkipsPaddingAndTornFrames) {
  const std::string good = EncodeRecordFrame(1, 1, "good record");
  std::string torn = EncodeRecordFrame(1, 2, "torn record");
  torn[kRecordFrameBytes + 3] ^= 0x40;  // a payload byte flipped: the CRC fails
  const std::string cut = EncodeRecordFrame(1, 3, "cut short").substr(0, 20);
  const std::string data = std::string(5000, '\0') + good + torn + std::string(77, '\0') + cut +
                           "RSFG garbage" + EncodeRecordFrame(2, 1, "after the mess");
  std::vector<Found> found = ScanAll(data);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].payload, "good record");
  EXPECT_EQ(found[0].start, 5000u);
  EXPECT_EQ(found[1].payload, "after the mess");
}

TEST(RecordsTest, LengthPastTheDataIsNotAFrame) {
  std::string frame = EncodeRecordFrame(1, 1, "abcdef");
  EXPECT_TRUE(ScanAll(frame.substr(0, frame.size() - 1)).empty());
  EXPECT_TRUE(ScanAll("").empty());
  EXPECT_TRUE(ScanAll(std::string(kRecordFrameBytes - 1, 'R')).empty());
}

}  // namespace
}  // namespace gfs
