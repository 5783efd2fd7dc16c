#include "daemon/control_server.h"

#include <nlohmann/json.hpp>

#include "build_config.h"
#include "patterns/pattern.h"

namespace bentos::daemon {

namespace {

nlohmann::json describe_device(session::Device& d, bool with_counters) {
  nlohmann::json j = {
      {"name", d.name()},
      {"socket", d.endpoint_uri()},
      {"plugin", d.library().path()},
      {"driver", d.library().name()},
      {"driver_version", d.library().version()},
      {"pattern", patterns::pattern_name(d.library().pattern())},
  };
  if (with_counters) {
    const auto& c = d.counters();
    j["connections"] = d.connection_count();
    j["sessions"] = d.session_count();
    j["counters"] = {
        {"connections_accepted", c.connections_accepted}, {"connections_refused", c.connections_refused},
        {"requests", c.requests},                         {"replies", c.replies},
        {"malformed_frames", c.malformed_frames},         {"oversized_frames", c.oversized_frames},
        {"sessions_opened", c.sessions_opened},           {"timeouts", d.timeouts()},
    };
  }
  return j;
}

}  // namespace

std::string ControlServer::answer(Host& host, const std::string& raw) {
  std::string command = raw;
  while (!command.empty() && (command.back() == '\r' || command.back() == ' ')) command.pop_back();
  nlohmann::json out;
  if (command == "list" || command == "status") {
    out["version"] = BENTOS_VERSION;
    out["devices"] = nlohmann::json::array();
    for (auto* d : host.devices()) out["devices"].push_back(describe_device(*d, command == "status"));
  } else if (command == "help") {
    out["commands"] = {"list", "status", "help"};
  } else {
    out["error"] = "unknown command '" + command + "'; try: list, status, help";
  }
  return out.dump() + "\n";
}

// One control client: reads a line, answers, closes.
struct ControlServer::Client {
  net::StreamStorage* stream;
  Host* host;
  std::string line;
  std::string reply;
  uv_write_t write_req;
  char buf[1024];
  bool done = false;

  void finish() {
    if (done) return;
    done = true;
    uv_read_stop(&stream->stream);
    reply = ControlServer::answer(*host, line);
    write_req.data = this;
    uv_buf_t b = uv_buf_init(reply.data(), static_cast<unsigned>(reply.size()));
    if (uv_write(&write_req, &stream->stream, &b, 1, [](uv_write_t* req, int) {
          static_cast<Client*>(req->data)->close();
        }) != 0) {
      close();
    }
  }
  void close() {
    uv_close(reinterpret_cast<uv_handle_t*>(&stream->stream), [](uv_handle_t* h) {
      auto* self = static_cast<Client*>(h->data);
      delete self->stream;
      delete self;
    });
  }
};

std::unique_ptr<ControlServer> ControlServer::open(Host& host, const std::string& path, std::string& error) {
  std::unique_ptr<ControlServer> self(new ControlServer(host));
  net::Endpoint endpoint;
  if (!net::parse_endpoint(path, endpoint, error) || endpoint.kind != net::Endpoint::Kind::unix_socket) {
    if (error.empty()) error = "control socket '" + path + "': expected a Unix socket path";
    error = "--control-socket: " + error;
    return nullptr;
  }
  net::ListenOptions options;
  options.mode = 0600;  // operators only
  ControlServer* raw = self.get();
  self->listener_ = net::Listener::open(
      host.context().loop(), endpoint, options, [raw](net::StreamStorage* c, std::string) { raw->accept(c); }, error);
  if (!self->listener_) {
    error = "--control-socket: " + error;
    return nullptr;
  }
  return self;
}

ControlServer::~ControlServer() = default;

void ControlServer::accept(net::StreamStorage* stream) {
  auto* client = new Client{};
  client->stream = stream;
  client->host = &host_;
  stream->stream.data = client;
  uv_read_start(
      &stream->stream,
      [](uv_handle_t* h, size_t, uv_buf_t* b) {
        auto* c = static_cast<Client*>(h->data);
        *b = uv_buf_init(c->buf, sizeof c->buf);
      },
      [](uv_stream_t* s, ssize_t n, const uv_buf_t* b) {
        auto* c = static_cast<Client*>(s->data);
        if (n < 0) return c->finish();  // EOF without newline: answer what we have
        c->line.append(b->base, static_cast<size_t>(n));
        const auto nl = c->line.find('\n');
        if (nl != std::string::npos) {
          c->line.resize(nl);
          c->finish();
        } else if (c->line.size() > 4096) {
          c->line = "(too long)";
          c->finish();
        }
      });
}

}  // namespace bentos::daemon
