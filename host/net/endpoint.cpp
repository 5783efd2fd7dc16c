#include "net/endpoint.h"

#include <sys/un.h>

#include <charconv>

namespace bentos::net {

std::string Endpoint::uri() const {
  if (kind == Kind::tcp) return "tcp://" + host + ":" + std::to_string(port);
  return "unix://" + path;
}

size_t max_unix_path_length() { return sizeof(sockaddr_un{}.sun_path) - 1; }

namespace {

bool parse_unix(const std::string& text, const std::string& path, Endpoint& out,
                std::string& error) {
  if (path.empty() || path[0] != '/') {
    error = "socket '" + text + "': expected an absolute path (unix:///abs/path.sock)";
    return false;
  }
  if (path.size() > max_unix_path_length()) {
    error = "socket '" + text + "': path is " + std::to_string(path.size()) +
            " bytes, longer than the " + std::to_string(max_unix_path_length()) +
            " a Unix socket address can hold; choose a shorter --socket-dir or socket path";
    return false;
  }
  out = Endpoint{};
  out.kind = Endpoint::Kind::unix_socket;
  out.path = path;
  return true;
}

bool parse_tcp(const std::string& text, const std::string& rest, Endpoint& out,
               std::string& error) {
  const auto colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == rest.size()) {
    error = "socket '" + text + "': expected tcp://host:port";
    return false;
  }
  std::string host = rest.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string port_text = rest.substr(colon + 1);
  unsigned port = 0;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || ptr != port_text.data() + port_text.size() || port > 65535) {
    error = "socket '" + text + "': port '" + port_text + "' is not a number from 0 to 65535";
    return false;
  }
  out = Endpoint{};
  out.kind = Endpoint::Kind::tcp;
  out.host = host;
  out.port = static_cast<uint16_t>(port);
  return true;
}

}  // namespace

bool parse_endpoint(const std::string& text, Endpoint& out, std::string& error) {
  static const std::string kUnix = "unix://";
  static const std::string kTcp = "tcp://";
  if (text.rfind(kUnix, 0) == 0) return parse_unix(text, text.substr(kUnix.size()), out, error);
  if (text.rfind(kTcp, 0) == 0) return parse_tcp(text, text.substr(kTcp.size()), out, error);
  if (!text.empty() && text[0] == '/') return parse_unix(text, text, out, error);
  error = "socket '" + text + "': expected unix:///abs/path.sock, an absolute path, or tcp://host:port";
  return false;
}

}  // namespace bentos::net
