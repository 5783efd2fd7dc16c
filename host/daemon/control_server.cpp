#include "daemon/control_server.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <string_view>
#include <vector>

#include "util/log.h"

namespace bentos::daemon {

// One control connection: splits what it reads into lines, answers each in
// order, and closes when the client has closed its side and every answer
// is written (or at once on an error). An answer may come later (reload):
// the lines after it wait, unread by the commands, so answers keep the
// order of their requests and a later request sees the reload's result.
//
// Self-owned: freed by libuv's close callback. `server_` is cleared when the
// server goes away first (shutdown); nothing is answered after that. A
// deferred answer reaches the client through `self_`, cleared on close, so
// an answer for a client that went away is dropped.
class ControlServer::Client {
 public:
  Client(ControlServer* server, net::StreamStorage* stream)
      : server_(server), stream_(stream), self_(std::make_shared<Client*>(this)) {
    stream_->stream.data = this;
  }

  void start() {
    last_active_ms_ = uv_now(stream_->stream.loop);
    if (uv_read_start(&stream_->stream, on_alloc, on_read) != 0) return close();
    reading_ = true;
  }

  // Over the client limit: one error line, then closed once it is written.
  void refuse(const std::string& why) {
    peer_done_ = true;  // nothing is read: close when the answer is out
    reply(ControlCommands::error_answer(why));
  }

  // Idle too long: closed, and out of the server's set.
  void expire() { close(); }

  // Sent nothing and waits for nothing since `since_ms` (uv_now time).
  bool idle_since(uint64_t since_ms) const {
    return unsent_ == 0 && !awaiting_ && pending_.empty() && last_active_ms_ <= since_ms;
  }

  // The server is going away: stop answering and close.
  void detach() {
    server_ = nullptr;
    close();
  }

 private:
  // One answer being written; freed by its write callback.
  struct Write {
    uv_write_t req;
    std::string data;
    Client* client;
  };
  // A line read and not yet handled: a request, or the answer for one
  // that was too long (it keeps its place in the order).
  struct Pending {
    std::string text;
    bool is_answer = false;
  };
  // Requests read ahead of a deferred answer beyond this much stop the
  // reading until it comes.
  static constexpr size_t kMaxPendingBytes = 4 * kMaxLineBytes;

  static void on_alloc(uv_handle_t* h, size_t, uv_buf_t* b) {
    auto* self = static_cast<Client*>(h->data);
    *b = uv_buf_init(self->buf_, sizeof self->buf_);
  }

  static void on_read(uv_stream_t* s, ssize_t n, const uv_buf_t* b) {
    auto* self = static_cast<Client*>(s->data);
    self->last_active_ms_ = uv_now(s->loop);
    if (n > 0) return self->consume(b->base, static_cast<size_t>(n));
    if (n == UV_EOF) return self->peer_finished();
    if (n < 0) self->close();
  }

  static void on_written(uv_write_t* req, int status) {
    auto* w = static_cast<Write*>(req->data);
    Client* self = w->client;
    self->unsent_ -= w->data.size();
    self->last_active_ms_ = uv_now(req->handle->loop);
    delete w;
    if (status < 0) return self->close();
    self->close_if_finished();
  }

  void consume(const char* data, size_t n) {
    while (n > 0 && !closing_) {
      const auto* nl = static_cast<const char*>(std::memchr(data, '\n', n));
      const size_t take = nl ? static_cast<size_t>(nl - data) : n;
      if (!skipping_ && line_.size() + take > kMaxLineBytes) {
        // Nothing in it can be trusted to be a whole request: skip to its end.
        queue(ControlCommands::error_answer("request line longer than " + std::to_string(kMaxLineBytes) +
                                            " bytes; skipped"),
              /*is_answer=*/true);
        line_.clear();
        skipping_ = true;
      }
      if (!skipping_) line_.append(data, take);
      if (!nl) break;
      if (!skipping_) queue(std::move(line_), /*is_answer=*/false);
      skipping_ = false;
      line_.clear();
      data = nl + 1;
      n -= take + 1;
    }
    handle_pending();
  }

  // EOF: a last line without its newline is still a request.
  void peer_finished() {
    if (!skipping_ && !line_.empty()) queue(std::move(line_), /*is_answer=*/false);
    line_.clear();
    peer_done_ = true;
    handle_pending();
  }

  void queue(std::string text, bool is_answer) {
    pending_bytes_ += text.size();
    pending_.push_back(Pending{std::move(text), is_answer});
  }

  // Handles the lines read, in order, until one waits for a deferred answer.
  void handle_pending() {
    if (handling_) return;  // an answer given inside answer() lands here
    handling_ = true;
    while (!awaiting_ && !closing_ && !pending_.empty()) {
      Pending next = std::move(pending_.front());
      pending_.pop_front();
      pending_bytes_ -= next.text.size();
      if (next.is_answer) reply(std::move(next.text));
      else handle_line(next.text);
    }
    handling_ = false;
    update_reading();
    close_if_finished();
  }

  void handle_line(const std::string& text) {
    if (!server_) return;
    std::string_view line = text;
    const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
    while (!line.empty() && blank(line.front())) line.remove_prefix(1);
    while (!line.empty() && blank(line.back())) line.remove_suffix(1);
    if (line.empty()) return;  // a blank line is not a request
    awaiting_ = true;
    server_->commands_.answer(std::string(line), [self = self_](std::string answer) {
      if (Client* client = *self) client->answered(std::move(answer));
    });
  }

  void answered(std::string answer) {
    awaiting_ = false;
    reply(std::move(answer));
    handle_pending();  // a no-op when answered inside answer(): the loop there goes on
  }

  // Reads while it has room for more lines and the client may send them.
  void update_reading() {
    if (closing_) return;
    const bool want = !peer_done_ && pending_bytes_ < kMaxPendingBytes;
    if (want == reading_) return;
    if (want && uv_read_start(&stream_->stream, on_alloc, on_read) != 0) return close();
    if (!want) uv_read_stop(&stream_->stream);
    reading_ = want;
  }

  void close_if_finished() {
    if (peer_done_ && unsent_ == 0 && !awaiting_ && pending_.empty()) close();
  }

  void reply(std::string answer) {
    if (closing_) return;
    // It does not read its answers. Counted from libuv's write queue (the
    // bytes the kernel has not taken), not from unsent_, which also holds
    // answers already written whose callbacks have not run yet: a client
    // pipelining many requests in one read is not one that stopped reading.
    if (uv_stream_get_write_queue_size(&stream_->stream) + answer.size() > kMaxUnsentBytes) return close();
    auto* w = new Write{{}, std::move(answer), this};
    w->req.data = w;
    uv_buf_t buf = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
    unsent_ += w->data.size();
    if (uv_write(&w->req, &stream_->stream, &buf, 1, on_written) != 0) {
      unsent_ -= w->data.size();
      delete w;
      close();
    }
  }

  void close() {
    if (closing_) return;
    closing_ = true;
    *self_ = nullptr;  // a deferred answer still to come is dropped
    if (server_) server_->clients_.erase(this);
    uv_read_stop(&stream_->stream);
    // Writes still queued are called back (cancelled) before this runs.
    uv_close(reinterpret_cast<uv_handle_t*>(&stream_->stream), [](uv_handle_t* h) {
      auto* self = static_cast<Client*>(h->data);
      delete self->stream_;
      delete self;
    });
  }

  ControlServer* server_;
  net::StreamStorage* stream_;
  std::shared_ptr<Client*> self_;  // what deferred answers reach it through
  std::string line_;        // the request line read so far
  std::deque<Pending> pending_;  // lines read, not handled yet
  size_t pending_bytes_ = 0;
  bool skipping_ = false;   // inside an over-long line: dropped up to its newline
  bool peer_done_ = false;  // the client closed its side
  bool closing_ = false;
  bool reading_ = false;    // uv_read_start is in effect
  bool awaiting_ = false;   // a request's answer is still to come
  bool handling_ = false;   // inside handle_pending()
  size_t unsent_ = 0;       // answer bytes queued and not yet written
  uint64_t last_active_ms_ = 0;  // uv_now() of the last read or written answer
  char buf_[4096];
};

std::unique_ptr<ControlServer> ControlServer::open(Host& host, const std::string& path, std::string& error,
                                                   ReloadFn reload, Limits limits) {
  std::unique_ptr<ControlServer> self(new ControlServer(host, std::move(reload), limits));
  net::Endpoint endpoint;
  if (!net::parse_endpoint(path, endpoint, error) || endpoint.kind != net::Endpoint::Kind::unix_socket) {
    if (error.empty()) error = "control socket '" + path + "': expected a Unix socket path";
    error = "--control-socket: " + error;
    return nullptr;
  }
  net::ListenOptions options;
  options.mode = 0660;  // the service user and its group (operators)
  options.handover = host.context().socket_handover();  // kept across restarts like the devices'
  ControlServer* raw = self.get();
  self->listener_ = net::Listener::open(
      host.context().loop(), endpoint, options, [raw](net::StreamStorage* c, std::string) { raw->accept(c); }, error);
  if (!self->listener_) {
    error = "--control-socket: " + error;
    return nullptr;
  }
  self->start_idle_sweep(host.context().loop());
  return self;
}

void ControlServer::start_idle_sweep(uv_loop_t* loop) {
  if (limits_.idle_timeout_ms == 0) return;
  sweep_ = new uv_timer_t;
  uv_timer_init(loop, sweep_);
  sweep_->data = this;
  // A quarter of the timeout: an idle client goes within 1.25 times it.
  const uint64_t every = std::clamp<uint64_t>(limits_.idle_timeout_ms / 4, 1, 10000);
  uv_timer_start(sweep_, &ControlServer::on_sweep, every, every);
  uv_unref(reinterpret_cast<uv_handle_t*>(sweep_));  // never what keeps the loop alive
}

void ControlServer::on_sweep(uv_timer_t* timer) {
  auto* self = static_cast<ControlServer*>(timer->data);
  const uint64_t now = uv_now(timer->loop);
  if (now < self->limits_.idle_timeout_ms) return;
  const uint64_t since = now - self->limits_.idle_timeout_ms;
  std::vector<Client*> idle;
  for (Client* c : self->clients_) {
    if (c->idle_since(since)) idle.push_back(c);
  }
  for (Client* c : idle) c->expire();
  if (!idle.empty()) {
    log::info("", "control socket: closed " + std::to_string(idle.size()) + " client(s) idle for " +
                      std::to_string(self->limits_.idle_timeout_ms / 1000) + " s");
  }
}

ControlServer::~ControlServer() {
  if (sweep_) {
    uv_timer_stop(sweep_);
    uv_close(reinterpret_cast<uv_handle_t*>(sweep_), [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
  }
  listener_.reset();
  auto clients = std::move(clients_);
  clients_.clear();
  for (Client* c : clients) c->detach();
}

void ControlServer::accept(net::StreamStorage* stream) {
  auto* client = new Client(this, stream);
  const bool over = clients_.size() >= limits_.max_clients;
  clients_.insert(client);  // refused ones too, until their answer is out
  if (!over) return client->start();
  // Logged at the 1st, 2nd, 4th, 8th... refusal: a peer looping on
  // connect cannot flood the log.
  ++refused_;
  if ((refused_ & (refused_ - 1)) == 0) {
    log::warn("", "control socket: refused a connection: " + std::to_string(limits_.max_clients) +
                      " clients are connected, the limit (" + std::to_string(refused_) + " refused so far)");
  }
  client->refuse("too many control connections (" + std::to_string(limits_.max_clients) +
                 " open); try again when one closes");
}

}  // namespace bentos::daemon
