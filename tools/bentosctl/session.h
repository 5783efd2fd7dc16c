// One bentosctl connection to a device, with what every command shares:
// answers awaited with an optional time limit and stopped by Ctrl-C, the
// handles left open remembered so an interrupted command can release them,
// and the exit statuses.
//
// Owned by the command that connected; main's thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>

#include "client.h"
#include "wire/ops.h"

namespace bentos::ctl {

constexpr int kExitOk = 0;
constexpr int kExitOpFailed = 1;  // an op answered an errno
constexpr int kExitUsage = 2;     // usage or connection error

// Prints "bentosctl: MESSAGE" on stderr and returns kExitUsage.
int usage_error(const std::string& message);

class Session {
 public:
  enum class Result { answered, failed, interrupted };

  // connect_timeout_ms bounds the connect; answer_timeout_ms bounds each
  // answer (negative: wait as long as it takes). nullptr and `error` set
  // when the connection cannot be made.
  static std::unique_ptr<Session> connect(const std::string& endpoint, int connect_timeout_ms,
                                          int answer_timeout_ms, std::string& error);

  // Sends `req` and waits for its answer. failed: no answer in time or the
  // connection closed (error() says which); interrupted: a signal arrived.
  Result call(const wire::Request& req, wire::Reply& reply);

  const std::string& error() const { return error_; }

  // Best effort, after an interruption or failure: releases every fh that
  // was opened and not yet released, waiting at most about a second.
  void release_open_handles();

  // release_open_handles(), then the exit status for the interruption.
  int interrupted();

 private:
  Session(std::unique_ptr<client::Connection> conn, int answer_timeout_ms)
      : conn_(std::move(conn)), answer_timeout_ms_(answer_timeout_ms) {}

  std::unique_ptr<client::Connection> conn_;
  int answer_timeout_ms_;
  std::set<uint64_t> open_fhs_;
  std::string error_;
};

}  // namespace bentos::ctl
