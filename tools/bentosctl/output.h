// How bentosctl prints answers: one line per answer, `LABEL: DESCRIPTION`
// (`read 65536: read 3 bytes: "OK\n"`, `read 65536: error EAGAIN (11)`), or
// with --json one JSON object per answer. Every line is flushed at once so
// a reader at the other end of a pipe sees progress.
//
// Writes to std::cout; main's thread only.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "script.h"
#include "wire/ops.h"

namespace bentos::ctl {

// "error", "buf", "write", ...
const char* reply_kind_name(wire::ReplyKind kind);

// The request side of a JSON answer: op, label, fh and the op's fields.
nlohmann::ordered_json step_json(const Step& step);
// Adds the answer: ok, reply, text, errno/errno_name, data/data_hex/eof,
// count, result/buf/buf_hex, revents/revents_names.
void add_reply_json(nlohmann::ordered_json& j, const wire::Reply& reply);

// Prints one JSON object on one line (invalid UTF-8 replaced) and flushes.
void print_json(const nlohmann::ordered_json& j);

// Prints one answer (reply null: a step without one, such as sleep, "ok").
void print_answer(const Step& step, const wire::Reply* reply, bool json);

}  // namespace bentos::ctl
