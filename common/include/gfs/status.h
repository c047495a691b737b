// gfs::Status and gfs::Result<T>: how everything in gfs reports failure.
//
// Codes are numerically identical to gRPC's status codes, so a status crosses the
// wire without translation tables (DESIGN.md, "Errors"). This header is public: it is
// installed with the client library and included by <gfs/client.h>.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace gfs {

enum class StatusCode : int {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

// Returns the code's name, e.g. "InvalidArgument".
const char* StatusCodeName(StatusCode code);

// The outcome of an operation: OK, or a code with a message. Cheap to copy when OK.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message);

  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string msg) {
    return Status(StatusCode::kInvalidArgument, std::move(msg));
  }
  static Status NotFound(std::string msg) { return Status(StatusCode::kNotFound, std::move(msg)); }
  static Status AlreadyExists(std::string msg) {
    return Status(StatusCode::kAlreadyExists, std::move(msg));
  }
  static Status FailedPrecondition(std::string msg) {
    return Status(StatusCode::kFailedPrecondition, std::move(msg));
  }
  static Status ResourceExhausted(std::string msg) {
    return Status(StatusCode::kResourceExhausted, std::move(msg));
  }
  static Status Unavailable(std::string msg) {
    return Status(StatusCode::kUnavailable, std::move(msg));
  }
  static Status DeadlineExceeded(std::string msg) {
    return Status(StatusCode::kDeadlineExceeded, std::move(msg));
  }
  static Status DataLoss(std::string msg) { return Status(StatusCode::kDataLoss, std::move(msg)); }
  static Status Internal(std::string msg) { return Status(StatusCode::kInternal, std::move(msg)); }
  static Status Aborted(std::string msg) { return Status(StatusCode::kAborted, std::move(msg)); }
  static Status OutOfRange(std::string msg) {
    return Status(StatusCode::kOutOfRange, std::move(msg));
  }
  static Status Unimplemented(std::string msg) {
    return Status(StatusCode::kUnimplemented, std::move(msg));
  }
  // An I/O failure of the local disk; `context` says what was being done, `err` is errno.
  static Status IOError(std::string_view context, int err);

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  bool IsNotFound() const { return code_ == StatusCode::kNotFound; }
  bool IsAlreadyExists() const { return code_ == StatusCode::kAlreadyExists; }
  bool IsUnavailable() const { return code_ == StatusCode::kUnavailable; }

  // Returns a copy whose message reads "<context>: <message>"; OK stays OK.
  Status Prepend(std::string_view context) const;

  // "OK", or "<CodeName>: <message>".
  std::string ToString() const;

  bool operator==(const Status& other) const {
    return code_ == other.code_ && message_ == other.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Either a value or a non-OK status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design.
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design.
    if (status_.ok()) status_ = Status::Internal("Result constructed from an OK status");
  }

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }

  // REQUIRES: ok().
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace gfs

#define GFS_STATUS_CONCAT_INNER_(a, b) a##b
#define GFS_STATUS_CONCAT_(a, b) GFS_STATUS_CONCAT_INNER_(a, b)

// Returns the status of `expr` from the enclosing function if it is not OK.
#define GFS_RETURN_IF_ERROR(expr)              \
  do {                                         \
    ::gfs::Status _gfs_status = (expr);        \
    if (!_gfs_status.ok()) return _gfs_status; \
  } while (0)

// As GFS_RETURN_IF_ERROR, with `context` prepended to the message.
#define GFS_RETURN_IF_ERROR_PREPEND(expr, context)              \
  do {                                                          \
    ::gfs::Status _gfs_status = (expr);                         \
    if (!_gfs_status.ok()) return _gfs_status.Prepend(context); \
  } while (0)

// `lhs = value of expr`, or returns its status. `lhs` may declare a variable.
#define GFS_ASSIGN_OR_RETURN(lhs, expr) \
  GFS_ASSIGN_OR_RETURN_IMPL_(GFS_STATUS_CONCAT_(_gfs_result_, __LINE__), lhs, expr)
#define GFS_ASSIGN_OR_RETURN_IMPL_(result, lhs, expr) \
  auto result = (expr);                               \
  if (!result.ok()) return result.status();           \
  lhs = std::move(result).value()
