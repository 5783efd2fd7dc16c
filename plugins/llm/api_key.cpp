#include "api_key.h"

#include <bentos/driver/errors.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace bentos::llm {

namespace {

std::string trimmed(std::string s) {
  const char* ws = " \t\r\n";
  const size_t first = s.find_first_not_of(ws);
  if (first == std::string::npos) return {};
  return s.substr(first, s.find_last_not_of(ws) - first + 1);
}

std::string octal_mode(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// The whole file, or nullopt when it does not exist. Other failures
// refuse the device (the operator must fix them; EACCES here means the
// daemon's user may not read its own key).
std::optional<std::string> read_secret(const std::string& path, const char* what, bool check_mode) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    throw bentos::error::invalid_argument(std::string("llm: cannot read ") + what + " " + path + ": " +
                                          std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw bentos::error::invalid_argument(std::string("llm: ") + what + " " + path + " is not a regular file");
  }
  if (check_mode && (st.st_mode & (S_IRGRP | S_IROTH)) != 0) {
    ::close(fd);
    throw bentos::error::invalid_argument(std::string("llm: refusing ") + what + " " + path + ": group or others may read it (mode " +
                                          octal_mode(st.st_mode) + "); chmod 600 it");
  }
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      throw bentos::error::invalid_argument(std::string("llm: cannot read ") + what + " " + path + ": " + std::strerror(e));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > (64u << 10)) {
      ::close(fd);
      throw bentos::error::invalid_argument(std::string("llm: ") + what + " " + path + " is too large for an API key");
    }
  }
  ::close(fd);
  return out;
}

ApiKey from_text(std::optional<std::string> text, const std::string& absent, const std::string& empty) {
  ApiKey out;
  if (!text) {
    out.missing_reason = absent;
    return out;
  }
  std::string key = trimmed(std::move(*text));
  if (key.empty()) {
    out.missing_reason = empty;
    return out;
  }
  out.key = std::move(key);
  return out;
}

}  // namespace

ApiKey load_api_key(const KeySource& source, bool needs_key) {
  switch (source.kind) {
    case KeySource::Kind::none: {
      ApiKey out;
      if (needs_key) out.missing_reason = "no API key: the device has no api_key_file, api_key_credential or api_key_env";
      return out;
    }
    case KeySource::Kind::file:
      return from_text(read_secret(source.name, "api_key_file", true),
                       "no API key: api_key_file " + source.name + " does not exist",
                       "no API key: api_key_file " + source.name + " is empty");
    case KeySource::Kind::credential: {
      const char* dir = std::getenv("CREDENTIALS_DIRECTORY");
      if (!dir || !*dir) {
        return from_text(std::nullopt,
                         "no API key: api_key_credential " + source.name + " needs $CREDENTIALS_DIRECTORY, which is not set",
                         {});
      }
      // systemd makes credentials readable by the service only: no mode check.
      const std::string path = std::string(dir) + "/" + source.name;
      return from_text(read_secret(path, "api_key_credential", false),
                       "no API key: credential " + source.name + " is not in $CREDENTIALS_DIRECTORY",
                       "no API key: credential " + source.name + " is empty");
    }
    case KeySource::Kind::env: {
      const char* v = std::getenv(source.name.c_str());
      return from_text(v ? std::optional<std::string>(v) : std::nullopt,
                       "no API key: api_key_env " + source.name + " is not set",
                       "no API key: api_key_env " + source.name + " is empty");
    }
  }
  return {};
}

}  // namespace bentos::llm
