// Path rules of the gfs namespace, shared by the master, the client and the CLI.
//
// A valid path is absolute and `/`-separated: "/" or "/a/b". No empty component (so
// no "//" and no trailing "/"), no "." or ".." component, no NUL byte, components of
// at most kMaxComponentBytes, the whole path at most kMaxPathBytes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "gfs/status.h"

namespace gfs {

inline constexpr size_t kMaxComponentBytes = 255;
inline constexpr size_t kMaxPathBytes = 4096;

// Returns OK for a valid path, else InvalidArgument naming the path and the rule broken.
Status ValidatePath(std::string_view path);

// Splits a valid path into its components; "/" gives none.
// REQUIRES: ValidatePath(path).ok().
std::vector<std::string> SplitPath(std::string_view path);

// "/a/b" -> "/a"; "/a" -> "/"; "/" -> "/". REQUIRES: a valid path.
std::string ParentPath(std::string_view path);

// "/a/b" -> "b"; "/" -> "". REQUIRES: a valid path.
std::string BaseName(std::string_view path);

// JoinPath("/a", "b") == "/a/b"; JoinPath("/", "b") == "/b".
std::string JoinPath(std::string_view dir, std::string_view name);

// True when `path` is `ancestor` or lies beneath it ("/a" is under "/a" and "/"; "/ab"
// is not under "/a"). REQUIRES: both valid.
bool IsSameOrUnder(std::string_view path, std::string_view ancestor);

}  // namespace gfs
