#include "output.h"

#include <iostream>

#include "client.h"

namespace bentos::ctl {

namespace client = bentos::client;

const char* reply_kind_name(wire::ReplyKind kind) {
  switch (kind) {
    case wire::ReplyKind::error: return "error";
    case wire::ReplyKind::empty: return "empty";
    case wire::ReplyKind::open: return "open";
    case wire::ReplyKind::buf: return "buf";
    case wire::ReplyKind::write: return "write";
    case wire::ReplyKind::ioctl: return "ioctl";
    case wire::ReplyKind::poll: return "poll";
  }
  return "?";
}

nlohmann::ordered_json step_json(const Step& step) {
  nlohmann::ordered_json j;
  j["op"] = step.op;
  j["label"] = step.label;
  const wire::Request& r = step.request;
  if (step.op == "sleep") {
    j["ms"] = step.sleep_ms;
    return j;
  }
  j["fh"] = r.fh;
  switch (r.kind) {
    case wire::OpKind::open: j["flags"] = r.flags; break;
    case wire::OpKind::read: j["size"] = r.size; break;
    case wire::OpKind::write: j["bytes"] = r.data.size(); break;
    case wire::OpKind::ioctl:
      j["cmd"] = r.cmd;
      j["in_hex"] = client::to_hex(r.data.str());
      break;
    case wire::OpKind::poll: j["events"] = r.events; break;
    default: break;
  }
  return j;
}

void add_reply_json(nlohmann::ordered_json& j, const wire::Reply& reply) {
  j["id"] = reply.id;
  j["ok"] = reply.kind != wire::ReplyKind::error;
  j["reply"] = reply_kind_name(reply.kind);
  j["text"] = client::describe(reply);
  switch (reply.kind) {
    case wire::ReplyKind::error:
      j["errno"] = reply.err;
      j["errno_name"] = client::errno_name(reply.err);
      break;
    case wire::ReplyKind::buf:
      j["eof"] = reply.data.empty();
      j["data"] = reply.data;  // invalid UTF-8 is replaced when dumped; data_hex is exact
      j["data_hex"] = client::to_hex(reply.data);
      break;
    case wire::ReplyKind::write: j["count"] = reply.count; break;
    case wire::ReplyKind::ioctl:
      j["result"] = reply.result;
      j["buf"] = reply.data;  // as text, like data; buf_hex is exact
      j["buf_hex"] = client::to_hex(reply.data);
      break;
    case wire::ReplyKind::poll:
      j["revents"] = reply.revents;
      j["revents_names"] = client::poll_events_name(reply.revents);
      break;
    default: break;
  }
}

void print_json(const nlohmann::ordered_json& j) {
  std::cout << j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
  std::cout.flush();
}

void print_answer(const Step& step, const wire::Reply* reply, bool json) {
  if (json) {
    nlohmann::ordered_json j = step_json(step);
    if (reply != nullptr) {
      add_reply_json(j, *reply);
    } else {
      j["ok"] = true;
    }
    print_json(j);
    return;
  }
  std::cout << step.label << ": " << (reply != nullptr ? client::describe(*reply) : "ok") << "\n";
  std::cout.flush();
}

}  // namespace bentos::ctl
