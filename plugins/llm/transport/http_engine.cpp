#include "http_engine.h"

#include <curl/curl.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>


namespace bentos::llm {

namespace {

using Clock = std::chrono::steady_clock;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

void init_curl_once() {
  // curl_global_init is not safe to race with other curl use; once per
  // process is enough and curl_global_cleanup is never needed.
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) throw std::runtime_error("curl_global_init failed");
  });
}

}  // namespace

const char* to_string(HttpError error) {
  switch (error) {
    case HttpError::none: return "none";
    case HttpError::connection_refused: return "connection_refused";
    case HttpError::network: return "network";
    case HttpError::idle_timeout: return "idle_timeout";
    case HttpError::cancelled: return "cancelled";
  }
  return "unknown";
}

// One transfer. Created by start() on the caller's thread, then owned and
// touched only by the engine thread (Impl::transfers).
struct Transfer {
  TransferId id = 0;
  HttpRequest request;  // url and body stay alive while curl uses them
  HttpHandler handler;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  HttpResponse response;
  bool response_delivered = false;
  bool marked = false;  // cancelled from a handler: no more calls but on_complete
  Clock::time_point last_byte;
  char error[CURL_ERROR_SIZE] = {};

  ~Transfer() {
    if (easy) curl_easy_cleanup(easy);
    if (headers) curl_slist_free_all(headers);
  }
  void deliver_response() {
    if (response_delivered) return;
    response_delivered = true;
    if (handler.on_response) handler.on_response(response);
  }
};

struct HttpEngine::Impl {
  // A request from another thread (or a handler) to the engine thread.
  struct Command {
    std::unique_ptr<Transfer> start;  // set: start it
    TransferId cancel = 0;            // else: cancel this id
    std::promise<bool>* reply = nullptr;  // the waiting cancel(), if any
  };

  CURLM* multi = nullptr;
  std::thread thread;
  std::atomic<TransferId> next_id{1};
  std::atomic<std::size_t> live{0};  // started, on_complete not yet called

  std::mutex mutex;  // guards commands and stopping
  std::deque<Command> commands;
  bool stopping = false;

  // Engine thread only.
  std::unordered_map<TransferId, std::unique_ptr<Transfer>> transfers;
  // Transfers waiting for their start_delay, by id; begun when due.
  std::unordered_map<TransferId, std::pair<Clock::time_point, std::unique_ptr<Transfer>>> delayed;

  void post(Command command) {
    {
      std::lock_guard lock(mutex);
      commands.push_back(std::move(command));
    }
    curl_multi_wakeup(multi);
  }

  bool on_engine_thread() const { return std::this_thread::get_id() == thread.get_id(); }

  void run();
  void execute(std::deque<Command>& batch);
  void begin(std::unique_ptr<Transfer> t);
  void begin_due();
  bool cancel_here(TransferId id);
  void finish(TransferId id, HttpCompletion completion);
  void reap();
  void abort_marked();
  void expire_idle();
  long poll_timeout_ms();
  void shut_down();

  // noexcept: they are called from C, so a throwing handler ends the
  // process here rather than unwinding through curl.
  static size_t on_header(char* data, size_t size, size_t count, void* user) noexcept;
  static size_t on_write(char* data, size_t size, size_t count, void* user) noexcept;
};

HttpEngine::HttpEngine() : impl_(std::make_unique<Impl>()) {
  init_curl_once();
  impl_->multi = curl_multi_init();
  if (!impl_->multi) throw std::runtime_error("curl_multi_init failed");
  // Signals are for the host's loop thread: the engine thread starts with
  // all of them blocked (it inherits the mask at creation).
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  impl_->thread = std::thread([impl = impl_.get()] { impl->run(); });
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

HttpEngine::~HttpEngine() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
  }
  curl_multi_wakeup(impl_->multi);
  impl_->thread.join();
  curl_multi_cleanup(impl_->multi);
}

TransferId HttpEngine::start(HttpRequest request, HttpHandler handler) {
  auto t = std::make_unique<Transfer>();
  t->id = impl_->next_id.fetch_add(1);
  t->request = std::move(request);
  t->handler = std::move(handler);
  const TransferId id = t->id;
  impl_->live.fetch_add(1);
  impl_->post(Impl::Command{std::move(t), 0, nullptr});
  return id;
}

bool HttpEngine::cancel(TransferId id) {
  if (impl_->on_engine_thread()) return impl_->cancel_here(id);
  std::promise<bool> reply;
  auto done = reply.get_future();
  impl_->post(Impl::Command{nullptr, id, &reply});
  return done.get();
}

void HttpEngine::cancel_soon(TransferId id) { impl_->post(Impl::Command{nullptr, id, nullptr}); }

std::size_t HttpEngine::transfer_count() const { return impl_->live.load(); }

void HttpEngine::Impl::run() {
  for (;;) {
    std::deque<Command> batch;
    bool stop = false;
    {
      std::lock_guard lock(mutex);
      batch.swap(commands);
      stop = stopping;
    }
    execute(batch);
    if (stop) break;
    begin_due();
    int running = 0;
    curl_multi_perform(multi, &running);
    reap();
    abort_marked();
    expire_idle();
    curl_multi_poll(multi, nullptr, 0, static_cast<int>(poll_timeout_ms()), nullptr);
  }
  shut_down();
}

void HttpEngine::Impl::execute(std::deque<Command>& batch) {
  for (auto& command : batch) {
    if (command.start) {
      const auto delay = command.start->request.start_delay;
      if (delay > std::chrono::milliseconds(0)) {
        const TransferId id = command.start->id;
        delayed.emplace(id, std::make_pair(Clock::now() + delay, std::move(command.start)));
      } else {
        begin(std::move(command.start));
      }
    } else {
      const bool cancelled = cancel_here(command.cancel);
      // Outside curl's callbacks here, so the abort can happen at once.
      abort_marked();
      if (command.reply) command.reply->set_value(cancelled);
    }
  }
}

void HttpEngine::Impl::begin(std::unique_ptr<Transfer> t) {
  Transfer& x = *t;
  x.last_byte = Clock::now();
  x.easy = curl_easy_init();
  if (!x.easy) {
    transfers.emplace(x.id, std::move(t));
    finish(x.id, {HttpError::network, "curl_easy_init failed"});
    return;
  }
  const HttpRequest& r = x.request;
  for (const auto& h : r.headers) x.headers = curl_slist_append(x.headers, h.c_str());
  // curl would wait up to a second for "100 Continue" before a large body.
  x.headers = curl_slist_append(x.headers, "Expect:");
  CURL* e = x.easy;
  curl_easy_setopt(e, CURLOPT_URL, r.url.c_str());
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, x.headers);
  if (r.method == HttpRequest::Method::post) {
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, r.body.data());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
  } else {
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
  }
  // HTTP/1.1 on purpose: aborting a transfer then closes its own TCP
  // connection, which is what tells the provider to stop generating (an
  // HTTP/2 stream reset would leave the decision to the server).
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM from another thread's resolver timeout
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, r.connect_timeout_ms);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x.error);
  curl_easy_setopt(e, CURLOPT_PRIVATE, &x);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &Impl::on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, &x);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &Impl::on_write);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &x);
  transfers.emplace(x.id, std::move(t));
  if (curl_multi_add_handle(multi, e) != CURLM_OK) finish(x.id, {HttpError::network, "curl_multi_add_handle failed"});
}

void HttpEngine::Impl::begin_due() {
  const auto now = Clock::now();
  std::vector<TransferId> due;
  for (const auto& [id, entry] : delayed)
    if (entry.first <= now) due.push_back(id);
  // In id order, so transfers due together begin in the order started.
  std::sort(due.begin(), due.end());
  for (TransferId id : due) {
    auto node = delayed.extract(id);
    begin(std::move(node.mapped().second));
  }
}

bool HttpEngine::Impl::cancel_here(TransferId id) {
  if (auto w = delayed.find(id); w != delayed.end()) {
    // Not begun, so no curl handle to remove: it joins the transfers only
    // to be finished by abort_marked() like any other, never from inside
    // the handler that may be calling this.
    auto node = delayed.extract(w);
    node.mapped().second->marked = true;
    node.mapped().second->last_byte = Clock::now();  // not idle-expired first
    transfers.emplace(id, std::move(node.mapped().second));
    return true;
  }
  auto it = transfers.find(id);
  if (it == transfers.end() || it->second->marked) return false;
  // Only marked: this may run inside a curl callback (a handler calling
  // cancel), where removing the handle is not allowed. abort_marked()
  // finishes it outside curl.
  it->second->marked = true;
  return true;
}

void HttpEngine::Impl::abort_marked() {
  std::vector<TransferId> ids;
  for (const auto& [id, t] : transfers)
    if (t->marked) ids.push_back(id);
  for (TransferId id : ids) finish(id, {HttpError::cancelled, "cancelled"});
}

void HttpEngine::Impl::finish(TransferId id, HttpCompletion completion) {
  auto it = transfers.find(id);
  if (it == transfers.end()) return;
  std::unique_ptr<Transfer> t = std::move(it->second);
  transfers.erase(it);
  // Removing an unfinished HTTP/1.1 transfer makes curl close its
  // connection, before the handler hears of the end.
  if (t->easy) curl_multi_remove_handle(multi, t->easy);
  HttpHandler handler = std::move(t->handler);
  t.reset();
  live.fetch_sub(1);
  if (handler.on_complete) handler.on_complete(completion);
}

void HttpEngine::Impl::reap() {
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    Transfer* t = nullptr;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &t);
    const CURLcode result = msg->data.result;
    HttpCompletion completion;
    if (t->marked) {
      completion = {HttpError::cancelled, "cancelled"};
    } else if (result != CURLE_OK) {
      long os_errno = 0;
      curl_easy_getinfo(t->easy, CURLINFO_OS_ERRNO, &os_errno);
      completion.error = result == CURLE_COULDNT_CONNECT && os_errno == ECONNREFUSED ? HttpError::connection_refused
                                                                                     : HttpError::network;
      completion.message = t->error[0] ? t->error : curl_easy_strerror(result);
    } else {
      // A body-less response (e.g. 204) has had no write callback.
      if (!t->response_delivered) {
        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &t->response.status);
        t->deliver_response();
      }
      if (t->marked) completion = {HttpError::cancelled, "cancelled"};
    }
    finish(t->id, std::move(completion));
  }
}

void HttpEngine::Impl::expire_idle() {
  const auto now = Clock::now();
  std::vector<TransferId> ids;
  for (const auto& [id, t] : transfers) {
    const long limit = t->request.idle_timeout_ms;
    if (limit > 0 && now - t->last_byte >= std::chrono::milliseconds(limit)) ids.push_back(id);
  }
  for (TransferId id : ids) {
    const long limit = transfers.at(id)->request.idle_timeout_ms;
    finish(id, {HttpError::idle_timeout, "no data received for " + std::to_string(limit) + " ms"});
  }
}

long HttpEngine::Impl::poll_timeout_ms() {
  long timeout = 1000;  // an upper bound, so nothing depends on a lost wakeup
  long curl_timeout = -1;
  curl_multi_timeout(multi, &curl_timeout);
  if (curl_timeout >= 0) timeout = std::min(timeout, curl_timeout);
  const auto now = Clock::now();
  for (const auto& [id, entry] : delayed) {
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(entry.first - now).count();
    timeout = std::min(timeout, static_cast<long>(std::max<decltype(ms)>(ms, 0)));
  }
  for (const auto& [id, t] : transfers) {
    const long limit = t->request.idle_timeout_ms;
    if (limit <= 0) continue;
    const auto left = t->last_byte + std::chrono::milliseconds(limit) - now;
    // Rounded up: waking a little early would only spin until the deadline.
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
    timeout = std::min(timeout, static_cast<long>(std::max<decltype(ms)>(ms, 0)));
  }
  return timeout;
}

void HttpEngine::Impl::shut_down() {
  // Handlers may start transfers while they hear of the shutdown (a retry,
  // say): those never run but still get their one on_complete.
  for (;;) {
    std::vector<TransferId> ids;
    for (const auto& [id, t] : transfers) ids.push_back(id);
    for (auto& [id, entry] : delayed) {
      ids.push_back(id);
      transfers.emplace(id, std::move(entry.second));
    }
    delayed.clear();
    for (TransferId id : ids) finish(id, {HttpError::cancelled, "engine stopped"});
    std::deque<Command> batch;
    {
      std::lock_guard lock(mutex);
      batch.swap(commands);
    }
    if (batch.empty() && transfers.empty()) break;
    for (auto& command : batch) {
      if (command.start) {
        HttpHandler handler = std::move(command.start->handler);
        command.start.reset();
        live.fetch_sub(1);
        if (handler.on_complete) handler.on_complete({HttpError::cancelled, "engine stopped"});
      } else if (command.reply) {
        command.reply->set_value(false);
      }
    }
  }
}

size_t HttpEngine::Impl::on_header(char* data, size_t size, size_t count, void* user) noexcept {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  t->last_byte = Clock::now();
  if (t->marked) return 0;  // makes curl stop the transfer
  if (t->response_delivered) return n;  // trailers after a chunked body
  std::string_view line(data, n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.starts_with("HTTP/")) {
    t->response.headers.clear();  // a new response: after a 1xx, say
  } else if (line.empty()) {
    long status = 0;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200) {
      t->response.status = status;
      t->deliver_response();
    }
  } else if ((line.front() == ' ' || line.front() == '\t') && !t->response.headers.empty()) {
    t->response.headers.back().second += ' ' + std::string(trim(line));  // obsolete line folding
  } else if (const size_t colon = line.find(':'); colon != std::string_view::npos) {
    t->response.headers.emplace_back(std::string(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1))));
  }
  return t->marked ? 0 : n;
}

size_t HttpEngine::Impl::on_write(char* data, size_t size, size_t count, void* user) noexcept {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  t->last_byte = Clock::now();
  if (t->marked) return 0;
  if (!t->response_delivered) {
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &t->response.status);
    t->deliver_response();
    if (t->marked) return 0;
  }
  if (t->handler.on_body) t->handler.on_body(std::string_view(data, n));
  return t->marked ? 0 : n;
}

}  // namespace bentos::llm
