#include "common/path.h"

namespace gfs {
namespace {

Status Invalid(std::string_view path, std::string_view reason) {
  std::string shown(path.substr(0, 200));
  for (char& c : shown) {
    if (c == '\0') c = '?';
  }
  if (path.size() > 200) shown += "...";
  return Status::InvalidArgument("invalid path '" + shown + "': " + std::string(reason));
}

}  // namespace

Status ValidatePath(std::string_view path) {
  if (path.empty()) return Invalid(path, "empty");
  if (path.size() > kMaxPathBytes) {
    return Invalid(path, "longer than " + std::to_string(kMaxPathBytes) + " bytes");
  }
  if (path.find('\0') != std::string_view::npos) return Invalid(path, "contains a NUL byte");
  if (path[0] != '/') return Invalid(path, "not absolute (must start with '/')");
  if (path.size() == 1) return Status::OK();
  if (path.back() == '/') return Invalid(path, "ends with '/'");
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view component = path.substr(start, end - start);
    if (component.empty()) return Invalid(path, "empty component ('//')");
    if (component == "." || component == "..") {
      return Invalid(path, "'.' and '..' components are not allowed");
    }
    if (component.size() > kMaxComponentBytes) {
      return Invalid(path,
                     "a component is longer than " + std::to_string(kMaxComponentBytes) + " bytes");
    }
    start = end + 1;
  }
  return Status::OK();
}

std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> parts;
  size_t start = 1;
  while (start < path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    parts.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

std::string ParentPath(std::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == 0 || slash == std::string_view::npos) return "/";
  return std::string(path.substr(0, slash));
}

std::string BaseName(std::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return std::string(path);
  return std::string(path.substr(slash + 1));
}

std::string JoinPath(std::string_view dir, std::string_view name) {
  std::string out(dir);
  if (out.empty() || out.back() != '/') out += '/';
  out += name;
  return out;
}

bool IsSameOrUnder(std::string_view path, std::string_view ancestor) {
  if (ancestor == "/") return true;
  if (path.size() < ancestor.size()) return false;
  if (path.substr(0, ancestor.size()) != ancestor) return false;
  return path.size() == ancestor.size() || path[ancestor.size()] == '/';
}

}  // namespace gfs
