// Small writes and record appends may carry their data inside the mutation instead of
// pushing it first (WriteRequest.inline_data, AppendRequest.inline_data): one call
// client -> primary -> secondaries instead of a push stream through every replica
// plus that call. This bounds how much a chunkserver accepts that way.
#pragma once

#include <cstddef>

namespace gfs {

inline constexpr size_t kMaxInlineBytes = 64 << 10;

}  // namespace gfs
