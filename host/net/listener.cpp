#include "net/listener.h"

#include <arpa/inet.h>
#include <grp.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace bentos::net {

namespace {

std::string uv_text(int rc) { return std::string(uv_strerror(rc)); }

// True when something accepts connections at `path` right now.
bool someone_listens(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const bool live = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return live;
}

// Removes a stale socket file, refusing to touch anything else.
bool clear_stale_socket(const std::string& path, std::string& error) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return true;  // nothing there
  if (!S_ISSOCK(st.st_mode)) {
    error = "socket " + path + ": a file that is not a socket is in the way; refusing to remove it";
    return false;
  }
  if (someone_listens(path)) {
    error = "socket " + path + ": another server is listening there (is another bentos-driver-host running?)";
    return false;
  }
  if (::unlink(path.c_str()) != 0) {
    error = "socket " + path + ": cannot remove the stale socket file: " + std::strerror(errno);
    return false;
  }
  return true;
}


// Mode and group of a socket file, as the manifest asks (defined below).
bool apply_socket_file_options(const std::string& path, const ListenOptions& options, std::string& error);

}  // namespace

std::unique_ptr<Listener> Listener::open(uv_loop_t* loop, const Endpoint& endpoint, const ListenOptions& options,
                                         AcceptFn on_accept, std::string& error) {
  std::unique_ptr<Listener> self(new Listener());
  self->loop_ = loop;
  self->endpoint_ = endpoint;
  self->on_accept_ = std::move(on_accept);
  self->server_ = new StreamStorage;
  const bool is_unix = endpoint.kind == Endpoint::Kind::unix_socket;
  // An inherited socket first: binding would find it live at the path.
  const int inherited = is_unix && options.handover ? options.handover->take(endpoint.path) : -1;
  // Told at close from now on, even if taking it over fails below.
  if (inherited >= 0) self->handover_ = options.handover;
  const bool ok = !is_unix         ? self->bind_tcp(error)
                  : inherited >= 0 ? self->adopt_unix(inherited, options, error)
                                   : self->bind_unix(options, error);
  if (!ok) return nullptr;  // the destructor closes what was opened
  self->server_->stream.data = self.get();
  // Also for a socket that listens already: sets the backlog, starts watching.
  const int rc = uv_listen(&self->server_->stream, options.backlog, &Listener::on_connection);
  if (rc != 0) {
    error = "socket " + endpoint.uri() + ": cannot listen: " + uv_text(rc);
    return nullptr;
  }
  if (is_unix && options.handover) {
    uv_os_fd_t fd = -1;
    self->handover_ = options.handover;
    if (uv_fileno(reinterpret_cast<uv_handle_t*>(&self->server_->stream), &fd) == 0) {
      self->handover_->listening(endpoint.path, fd);
    }
  }
  return self;
}

bool Listener::adopt_unix(int fd, const ListenOptions& options, std::string& error) {
  uv_pipe_init(loop_, &server_->pipe, 0);
  const int rc = uv_pipe_open(&server_->pipe, fd);
  if (rc != 0) {
    ::close(fd);
    error = "socket " + endpoint_.path + ": cannot take over the inherited socket: " + uv_text(rc);
    return false;
  }
  // The file is this process's now: removed at close like one it bound.
  created_file_ = true;
  // The manifest may have changed the mode or group since it was bound.
  return apply_file_options(options, error);
}

bool Listener::bind_unix(const ListenOptions& options, std::string& error) {
  uv_pipe_init(loop_, &server_->pipe, 0);
  const int fd = bind_unix_socket(endpoint_.path, options, error);
  if (fd < 0) return false;
  created_file_ = true;
  const int rc = uv_pipe_open(&server_->pipe, fd);
  if (rc != 0) {
    ::close(fd);
    error = "socket " + endpoint_.path + ": cannot listen: " + uv_text(rc);
    return false;
  }
  return true;
}

bool Listener::apply_file_options(const ListenOptions& options, std::string& error) {
  return apply_socket_file_options(endpoint_.path, options, error);
}

namespace {

bool apply_socket_file_options(const std::string& path, const ListenOptions& options, std::string& error) {
  if (options.mode && ::chmod(path.c_str(), *options.mode) != 0) {
    error = "socket " + path + ": cannot set mode: " + std::strerror(errno);
    return false;
  }
  if (options.group) {
    gid_t gid = 0;
    if (!resolve_group(*options.group, gid, error)) {
      error = "socket " + path + ": " + error;
      return false;
    }
    if (::chown(path.c_str(), static_cast<uid_t>(-1), gid) != 0) {
      error = "socket " + path + ": cannot set group " + *options.group + ": " + std::strerror(errno);
      return false;
    }
  }
  return true;
}

}  // namespace

bool resolve_group(const std::string& group, gid_t& gid, std::string& error) {
  if (!group.empty() && group.find_first_not_of("0123456789") == std::string::npos) {
    gid = static_cast<gid_t>(std::stoul(group));
    return true;
  }
  struct group* g = ::getgrnam(group.c_str());
  if (!g) {
    error = "group '" + group + "' does not exist";
    return false;
  }
  gid = g->gr_gid;
  return true;
}

int bind_unix_socket(const std::string& path, const ListenOptions& options, std::string& error) {
  std::error_code ec;
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty() && !std::filesystem::exists(parent, ec)) {
    std::filesystem::create_directories(parent, ec);
    if (ec) {
      error = "socket " + path + ": cannot create directory " + parent.string() + ": " + ec.message();
      return -1;
    }
  }
  if (!clear_stale_socket(path, error)) return -1;
  // Bound here rather than with uv_pipe_bind, whose handle would unlink
  // the file when it closes: a socket handed over at shutdown must keep
  // its file (its owner decides).
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = "socket " + path + ": cannot create a socket: " + std::strerror(errno);
    return -1;
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    ::close(fd);
    error = "socket " + path + ": the path is too long for a unix socket";
    return -1;
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    error = "socket " + path + ": cannot bind: " + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  if (::listen(fd, options.backlog) != 0) {
    error = "socket " + path + ": cannot listen: " + std::strerror(errno);
  } else if (apply_socket_file_options(path, options, error)) {
    return fd;
  }
  ::unlink(path.c_str());
  ::close(fd);
  return -1;
}

bool Listener::bind_tcp(std::string& error) {
  uv_tcp_init(loop_, &server_->tcp);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(endpoint_.port);
  if (int rc = ::getaddrinfo(endpoint_.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    error = "socket " + endpoint_.uri() + ": cannot resolve host: " + ::gai_strerror(rc);
    return false;
  }
  const int rc = uv_tcp_bind(&server_->tcp, found->ai_addr, 0);
  ::freeaddrinfo(found);
  if (rc != 0) {
    error = "socket " + endpoint_.uri() + ": cannot bind: " + uv_text(rc);
    return false;
  }
  return true;
}

std::string Listener::bound_uri() const {
  if (endpoint_.kind == Endpoint::Kind::unix_socket) return endpoint_.uri();
  sockaddr_storage ss{};
  int len = sizeof ss;
  if (uv_tcp_getsockname(&server_->tcp, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return endpoint_.uri();
  char host[INET6_ADDRSTRLEN] = "";
  int port = 0;
  if (ss.ss_family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    uv_ip4_name(a, host, sizeof host);
    port = ntohs(a->sin_port);
    return "tcp://" + std::string(host) + ":" + std::to_string(port);
  }
  auto* a6 = reinterpret_cast<sockaddr_in6*>(&ss);
  uv_ip6_name(a6, host, sizeof host);
  port = ntohs(a6->sin6_port);
  return "tcp://[" + std::string(host) + "]:" + std::to_string(port);
}

void Listener::on_connection(uv_stream_t* server, int status) {
  auto* self = static_cast<Listener*>(server->data);
  if (status != 0) return;
  auto* client = new StreamStorage;
  if (self->endpoint_.kind == Endpoint::Kind::unix_socket) {
    uv_pipe_init(self->loop_, &client->pipe, 0);
  } else {
    uv_tcp_init(self->loop_, &client->tcp);
    uv_tcp_nodelay(&client->tcp, 1);
  }
  if (uv_accept(server, &client->stream) != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&client->stream),
             [](uv_handle_t* h) { delete reinterpret_cast<StreamStorage*>(h); });
    return;
  }
  ++self->accepted_;
  std::string peer = self->endpoint_.uri() + " #" + std::to_string(self->accepted_);
  self->on_accept_(client, std::move(peer));
}

Listener::~Listener() {
  if (server_) {
    uv_close(reinterpret_cast<uv_handle_t*>(&server_->stream),
             [](uv_handle_t* h) { delete reinterpret_cast<StreamStorage*>(h); });
  }
  // Told before the file goes: a socket the service manager still kept
  // for a path that another socket may take next would be a stale one.
  const bool remove_file = handover_ ? handover_->closing(endpoint_.path) : true;
  if (created_file_ && remove_file) ::unlink(endpoint_.path.c_str());
}

bool peer_credentials(uv_stream_t* client, uint32_t& uid, uint32_t& gid, int32_t& pid) {
  uv_os_fd_t fd = -1;
  if (uv_fileno(reinterpret_cast<uv_handle_t*>(client), &fd) != 0) return false;
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return false;
  uid = cred.uid;
  gid = cred.gid;
  pid = cred.pid;
  return true;
}

}  // namespace bentos::net
