// bentos-mount's messages: one line each, "bentos-mount: ..." on stderr.
// Loop thread (and main before the loop); not synchronised.
#pragma once

#include <cstdio>
#include <string>

namespace bentos::mount {

inline void log_line(const std::string& message) {
  std::fprintf(stderr, "bentos-mount: %s\n", message.c_str());
  std::fflush(stderr);
}

}  // namespace bentos::mount
