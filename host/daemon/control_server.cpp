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

std::string ControlServer::answer(const std::string& raw) {
  Host& host = host_;
  std::string command = raw;
  while (!command.empty() && (command.back() == '\r' || command.back() == ' ')) command.pop_back();
  nlohmann::json out;
  if (command == "list" || command == "status") {
    out["version"] = BENTOS_VERSION;
    out["devices"] = nlohmann::json::array();
    for (auto* d : host.devices()) out["devices"].push_back(describe_device(*d, command == "status"));
  } else if (command == "reload") {
    if (!reload_) {
      out["error"] = "reload is not available";
    } else {
      const ReloadOutcome r = reload_();
      out = {{"added", r.added}, {"removed", r.removed}, {"restarted", r.restarted},
             {"unchanged", r.unchanged}, {"errors", r.errors}};
    }
  } else if (command == "help") {
    out["commands"] = {"list", "status", "reload", "help"};
  } else {
    out["error"] = "unknown command '" + command + "'; try: list, status, reload, help";
  }
  return out.dump() + "\n";
}

// One control client: reads a line, answers, closes. `server` is cleared
// when the server goes away first (shutdown), so a late line is not answered.
struct ControlServer::Client {
  net::StreamStorage* stream;
  ControlServer* server;
  std::string line;
  std::string reply;
  uv_write_t write_req;
  char buf[1024];
  bool done = false;

  void finish() {
    if (done) return;
    done = true;
    uv_read_stop(&stream->stream);
    if (!server) return close();
    reply = server->answer(line);
    write_req.data = this;
    uv_buf_t b = uv_buf_init(reply.data(), static_cast<unsigned>(reply.size()));
    if (uv_write(&write_req, &stream->stream, &b, 1, [](uv_write_t* req, int) {
          static_cast<Client*>(req->data)->close();
        }) != 0) {
      close();
    }
  }
  void close() {
    if (uv_is_closing(reinterpret_cast<uv_handle_t*>(&stream->stream))) return;
    if (server) server->clients_.erase(this);
    uv_close(reinterpret_cast<uv_handle_t*>(&stream->stream), [](uv_handle_t* h) {
      auto* self = static_cast<Client*>(h->data);
      delete self->stream;
      delete self;
    });
  }
};

std::unique_ptr<ControlServer> ControlServer::open(Host& host, const std::string& path, std::string& error,
                                                   ReloadFn reload) {
  std::unique_ptr<ControlServer> self(new ControlServer(host));
  self->reload_ = std::move(reload);
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

ControlServer::~ControlServer() {
  for (Client* c : clients_) {
    c->server = nullptr;
    c->done = true;
    uv_read_stop(&c->stream->stream);
    c->close();
  }
}

void ControlServer::accept(net::StreamStorage* stream) {
  auto* client = new Client{};
  client->stream = stream;
  client->server = this;
  clients_.insert(client);
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
