// The only translation unit that includes the generated protobuf header.
// The host's hot paths avoid it: requests are read by request_parser.cpp
// (falling back here), replies written by reply_encoder.cpp.
#include "wire/codec.h"

#include "fuse_wire.pb.h"
#include "wire/request_parser.h"

namespace bentos::wire {

namespace pb = ::bentos::fuse;

const char* op_name(OpKind kind) {
  switch (kind) {
    case OpKind::none: return "none";
    case OpKind::no_op: return "no-op";
    case OpKind::fuse_only: return "fuse-only";
    case OpKind::open: return "open";
    case OpKind::read: return "read";
    case OpKind::write: return "write";
    case OpKind::flush: return "flush";
    case OpKind::release: return "release";
    case OpKind::fsync: return "fsync";
    case OpKind::ioctl: return "ioctl";
    case OpKind::poll: return "poll";
  }
  return "?";
}

namespace {

void fill_request(const pb::FuseRequest& req, Request& out) {
  switch (req.op_case()) {
    case pb::FuseRequest::kOpen:
      out.kind = OpKind::open;
      out.flags = req.open().flags();
      break;
    case pb::FuseRequest::kRead:
      out.kind = OpKind::read;
      out.size = req.read().size();
      out.offset = req.read().offset();
      break;
    case pb::FuseRequest::kWrite:
      out.kind = OpKind::write;
      out.data = req.write().data();  // owned: the message dies with this call
      out.offset = req.write().offset();
      break;
    case pb::FuseRequest::kFlush:
      out.kind = OpKind::flush;
      out.lock_owner = req.flush().lock_owner();
      break;
    case pb::FuseRequest::kRelease:
      out.kind = OpKind::release;
      out.flags = req.release().flags();
      out.lock_owner = req.release().lock_owner();
      break;
    case pb::FuseRequest::kFsync:
      out.kind = OpKind::fsync;
      out.datasync = req.fsync().datasync();
      break;
    case pb::FuseRequest::kIoctl:
      out.kind = OpKind::ioctl;
      out.cmd = req.ioctl().cmd();
      out.ioctl_flags = req.ioctl().flags();
      out.data = req.ioctl().in_buf();
      out.out_bufsz = req.ioctl().out_bufsz();
      break;
    case pb::FuseRequest::kPoll:
      out.kind = OpKind::poll;
      out.events = req.poll().events();
      out.kh = req.poll().kh();
      break;
    case pb::FuseRequest::OP_NOT_SET:
      out.kind = OpKind::no_op;
      break;
    default:  // fields 16..45: FUSE-only operations
      out.kind = OpKind::fuse_only;
      out.fuse_field = static_cast<uint32_t>(req.op_case());
      break;
  }
}

// Frames `msg` and appends it: the length prefix is written in place, then
// the message is serialized straight into the output buffer.
void append_framed(const pb::FuseMessage& msg, std::string& out) {
  const size_t body = msg.ByteSizeLong();
  const size_t start = out.size();
  out.resize(start + 4 + body);
  auto* p = reinterpret_cast<uint8_t*>(out.data() + start);
  p[0] = static_cast<uint8_t>(body >> 24);
  p[1] = static_cast<uint8_t>(body >> 16);
  p[2] = static_cast<uint8_t>(body >> 8);
  p[3] = static_cast<uint8_t>(body);
  msg.SerializeWithCachedSizesToArray(p + 4);
}

}  // namespace

bool decode_request(const uint8_t* data, size_t len, Request& out) {
  // The common shapes without protobuf objects (request_parser.h); the
  // generated parser decides everything else.
  return parse_request_fast(data, len, out) || detail::decode_request_generated(data, len, out);
}

bool detail::decode_request_generated(const uint8_t* data, size_t len, Request& out) {
  pb::FuseMessage msg;
  if (!msg.ParseFromArray(data, static_cast<int>(len))) return false;
  out = Request{};
  out.id = msg.id();
  out.fh = msg.fh();
  if (msg.payload_case() == pb::FuseMessage::kRequest) fill_request(msg.request(), out);
  return true;
}

void append_request_frame(const Request& r, std::string& out) {
  pb::FuseMessage msg;
  msg.set_id(r.id);
  msg.set_fh(r.fh);
  switch (r.kind) {
    case OpKind::none: break;
    case OpKind::no_op: msg.mutable_request(); break;
    case OpKind::fuse_only:
      // Clients only need one FUSE-only op to exercise the ENOSYS rule.
      msg.mutable_request()->mutable_lookup()->set_parent(1);
      break;
    case OpKind::open: msg.mutable_request()->mutable_open()->set_flags(r.flags); break;
    case OpKind::read: {
      auto* rd = msg.mutable_request()->mutable_read();
      rd->set_size(r.size);
      rd->set_offset(r.offset);
      break;
    }
    case OpKind::write: {
      auto* wr = msg.mutable_request()->mutable_write();
      wr->set_data(r.data.data(), r.data.size());
      wr->set_offset(r.offset);
      break;
    }
    case OpKind::flush: msg.mutable_request()->mutable_flush()->set_lock_owner(r.lock_owner); break;
    case OpKind::release: {
      auto* rel = msg.mutable_request()->mutable_release();
      rel->set_flags(r.flags);
      rel->set_lock_owner(r.lock_owner);
      break;
    }
    case OpKind::fsync: msg.mutable_request()->mutable_fsync()->set_datasync(r.datasync); break;
    case OpKind::ioctl: {
      auto* io = msg.mutable_request()->mutable_ioctl();
      io->set_cmd(r.cmd);
      io->set_flags(r.ioctl_flags);
      io->set_in_buf(r.data.data(), r.data.size());
      io->set_out_bufsz(r.out_bufsz);
      break;
    }
    case OpKind::poll: {
      auto* po = msg.mutable_request()->mutable_poll();
      po->set_events(r.events);
      po->set_kh(r.kh);
      break;
    }
  }
  append_framed(msg, out);
}

bool decode_reply(const uint8_t* data, size_t len, Reply& out) {
  pb::FuseMessage msg;
  if (!msg.ParseFromArray(data, static_cast<int>(len))) return false;
  if (msg.payload_case() != pb::FuseMessage::kResponse) return false;
  out = Reply{};
  out.id = msg.id();
  out.fh = msg.fh();
  const pb::FuseResponse& rsp = msg.response();
  out.err = rsp.err();
  switch (rsp.reply_case()) {
    case pb::FuseResponse::kOpen: out.kind = ReplyKind::open; break;
    case pb::FuseResponse::kBuf:
      out.kind = ReplyKind::buf;
      out.data = rsp.buf().data();
      break;
    case pb::FuseResponse::kWrite:
      out.kind = ReplyKind::write;
      out.count = rsp.write().count();
      break;
    case pb::FuseResponse::kIoctl:
      out.kind = ReplyKind::ioctl;
      out.result = rsp.ioctl().result();
      out.data = rsp.ioctl().buf();
      break;
    case pb::FuseResponse::kPoll:
      out.kind = ReplyKind::poll;
      out.revents = rsp.poll().revents();
      break;
    case pb::FuseResponse::REPLY_NOT_SET:
      out.kind = out.err != 0 ? ReplyKind::error : ReplyKind::empty;
      break;
    default:  // a FUSE-only reply: not something a device answers
      out.kind = out.err != 0 ? ReplyKind::error : ReplyKind::empty;
      break;
  }
  return true;
}

}  // namespace bentos::wire
