#include "session.h"

#include <poll.h>

#include <cerrno>
#include <chrono>
#include <iostream>
#include <optional>

#include "interrupt.h"

namespace bentos::ctl {

namespace {

using Clock = std::chrono::steady_clock;

// What a release after an interruption may cost at most.
constexpr int kCleanupTimeoutMs = 1000;
// Connect attempts last this long at most between checks for a signal.
constexpr long kConnectSliceMs = 200;

}  // namespace

int usage_error(const std::string& message) {
  std::cout.flush();  // keep the answers printed so far before the message
  std::cerr << "bentosctl: " << message << "\n";
  return kExitUsage;
}

std::unique_ptr<Session> Session::connect(const std::string& endpoint, int connect_timeout_ms,
                                          int answer_timeout_ms, std::string& error) {
  // The client retries a missing or refusing socket until its timeout; in
  // slices, so that Ctrl-C meanwhile is not kept waiting.
  const auto deadline = Clock::now() + std::chrono::milliseconds(connect_timeout_ms);
  const std::string gave_up = " (gave up after ";
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    const int slice = static_cast<int>(left < kConnectSliceMs ? (left > 0 ? left : 0) : kConnectSliceMs);
    if (auto conn = client::Connection::connect(endpoint, error, slice)) {
      return std::unique_ptr<Session>(new Session(std::move(conn), answer_timeout_ms));
    }
    if (interrupt::received() != 0) return nullptr;
    const size_t at = error.find(gave_up);
    if (at == std::string::npos) return nullptr;  // not worth retrying
    if (Clock::now() >= deadline) {
      error.replace(at, std::string::npos, gave_up + std::to_string(connect_timeout_ms) + " ms)");
      return nullptr;
    }
  }
}

Session::Result Session::call(const wire::Request& req, wire::Reply& reply) {
  if (interrupt::received() != 0) return Result::interrupted;
  const uint64_t id = conn_->send(req);
  const bool limited = answer_timeout_ms_ >= 0;
  const auto deadline = Clock::now() + std::chrono::milliseconds(limited ? answer_timeout_ms_ : 0);
  for (;;) {
    // Takes what already arrived without blocking.
    if (std::optional<wire::Reply> r = conn_->wait(id, 0)) {
      reply = std::move(*r);
      break;
    }
    if (conn_->closed()) {
      error_ = conn_->last_error();
      return Result::failed;
    }
    int timeout = -1;
    if (limited) {
      const auto left =
          std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) {
        error_ = "no answer within " + std::to_string(answer_timeout_ms_) + " ms";
        return Result::failed;
      }
      timeout = static_cast<int>(left);
    }
    pollfd p[2] = {{conn_->fd(), POLLIN, 0}, {interrupt::wake_fd(), POLLIN, 0}};
    const int n = ::poll(p, 2, timeout);
    if (interrupt::received() != 0) return Result::interrupted;
    if (n < 0 && errno != EINTR) {
      error_ = "poll failed";
      return Result::failed;
    }
  }
  if (req.kind == wire::OpKind::open && reply.kind == wire::ReplyKind::open) {
    open_fhs_.insert(req.fh);
  } else if (req.kind == wire::OpKind::release) {
    open_fhs_.erase(req.fh);
  }
  return Result::answered;
}

void Session::release_open_handles() {
  const auto deadline = Clock::now() + std::chrono::milliseconds(kCleanupTimeoutMs);
  for (const uint64_t fh : open_fhs_) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0 || conn_->closed()) break;
    // Not Session::call: that one stops at once after a signal.
    conn_->release(fh, static_cast<int>(left));
  }
  open_fhs_.clear();
}

int Session::interrupted() {
  std::cout.flush();
  release_open_handles();
  return interrupt::exit_status();
}

}  // namespace bentos::ctl
