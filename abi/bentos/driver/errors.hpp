/*
 * bentos/driver/errors.hpp - part of the C++ authoring layer (bentos/driver.hpp).
 * Errors: bentos::error::driver_error and its factories.
 */
#pragma once

#include "bentos/driver.h"

#include <cerrno>
#include <stdexcept>
#include <string>

namespace bentos {

namespace error {

// A failure carrying a positive errno. Driver code throws it (usually made
// by the factories below); the pattern's exception barrier turns it into
// the negative errno the C ABI expects. Any other exception becomes EIO.
// Derives from std::runtime_error so copying it never throws.
// Value type: any thread.
class driver_error : public std::runtime_error {
 public:
  driver_error(int code, const std::string& message)
      : std::runtime_error(message), code_(code > 0 ? code : EIO) {}
  int code() const noexcept { return code_; }

 private:
  int code_;
};

// Usage: throw bentos::error::not_found("no such key");
inline driver_error from_errno(int code, const std::string& m) { return {code, m}; }
inline driver_error not_found(const std::string& m = "not found") { return {ENOENT, m}; }
inline driver_error permission_denied(const std::string& m = "permission denied") { return {EACCES, m}; }
inline driver_error invalid_argument(const std::string& m = "invalid argument") { return {EINVAL, m}; }
inline driver_error busy(const std::string& m = "busy") { return {EBUSY, m}; }
inline driver_error would_block(const std::string& m = "would block") { return {EAGAIN, m}; }
inline driver_error io(const std::string& m = "I/O error") { return {EIO, m}; }
inline driver_error not_supported(const std::string& m = "not supported") { return {ENOSYS, m}; }
inline driver_error timed_out(const std::string& m = "timed out") { return {ETIMEDOUT, m}; }
inline driver_error too_large(const std::string& m = "too large") { return {EFBIG, m}; }
inline driver_error no_memory(const std::string& m = "out of memory") { return {ENOMEM, m}; }
inline driver_error broken_pipe(const std::string& m = "broken pipe") { return {EPIPE, m}; }
inline driver_error not_a_tty(const std::string& m = "not a tty") { return {ENOTTY, m}; }

}  // namespace error

}  // namespace bentos
