// Device endpoints (wire.md, "Roles and transport"): `unix:///abs/path.sock`,
// a bare absolute path (same as unix://), or `tcp://host:port` (development
// and tests only).
//
// Plain value parsing; no thread affinity, no I/O.
#pragma once

#include <cstdint>
#include <string>

namespace bentos::net {

struct Endpoint {
  enum class Kind { unix_socket, tcp };
  Kind kind = Kind::unix_socket;
  std::string path;  // unix: absolute socket path
  std::string host;  // tcp: host name or address
  uint16_t port = 0; // tcp

  std::string uri() const;
};

// Longest path a sockaddr_un can hold (sun_path minus the terminating NUL).
size_t max_unix_path_length();

// Parses `text`. On failure returns false and sets `error` to a sentence
// naming the text and what was expected (including an over-long unix path).
bool parse_endpoint(const std::string& text, Endpoint& out, std::string& error);

}  // namespace bentos::net
