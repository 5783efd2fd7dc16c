// Every frame of ../shared/spec/golden-frames.tsv: requests decode to the
// meaning the file states and re-encode to the same bytes; responses are
// produced byte for byte from the reply they describe.
#include <doctest/doctest.h>

#include <filesystem>
#include <map>
#include <set>

#include "shared_files.h"
#include "wire/codec.h"
#include "wire/segmented_output.h"

using bentos::test::bytes_to_hex;
using bentos::wire::OpKind;
using bentos::wire::Reply;
using bentos::wire::ReplyKind;
using bentos::wire::Request;

namespace {

constexpr uint64_t kBigFh = (1ull << 40) + 5;

Request req(uint64_t id, uint64_t fh, OpKind kind) {
  Request r;
  r.id = id;
  r.fh = fh;
  r.kind = kind;
  return r;
}

// The meaning column of each request row, as a Request.
std::map<std::string, Request> expected_requests() {
  std::map<std::string, Request> m;
  Request r = req(1, 1, OpKind::open);
  r.flags = 2;
  m["req_open_rdwr"] = r;
  r = req(2, 1, OpKind::open);
  r.flags = 0x802;
  m["req_open_rdwr_nonblock"] = r;
  r = req(3, 1, OpKind::read);
  r.size = 65536;
  m["req_read_64k"] = r;
  r = req(4, 1, OpKind::write);
  r.data = "name=bentos\n";
  m["req_write_kv"] = r;
  m["req_flush"] = req(5, 1, OpKind::flush);
  m["req_release"] = req(6, 1, OpKind::release);
  m["req_fsync"] = req(7, 1, OpKind::fsync);
  r = req(8, 1, OpKind::ioctl);
  r.cmd = 0xBE00;
  r.out_bufsz = 65536;
  m["req_ioctl_get_state"] = r;
  r = req(9, 1, OpKind::ioctl);
  r.cmd = 0x02;
  r.data = std::string("\xfa\x00\x00\x00", 4);
  m["req_ioctl_set_delay"] = r;
  r = req(10, 1, OpKind::poll);
  r.events = 0x05;
  r.kh = 7;
  m["req_poll"] = r;
  r = req(300, kBigFh, OpKind::read);
  r.size = 4096;
  r.offset = 123;
  m["req_read_bigids"] = r;
  r = req(11, 0, OpKind::fuse_only);
  r.fuse_field = 16;
  m["req_lookup"] = r;
  m["req_empty_envelope"] = req(12, 1, OpKind::none);
  m["req_zero_length_frame"] = req(0, 0, OpKind::none);
  return m;
}

Reply rep(uint64_t id, uint64_t fh, Reply r) {
  r.id = id;
  r.fh = fh;
  return r;
}

std::map<std::string, Reply> expected_replies() {
  std::map<std::string, Reply> m;
  m["rsp_open_ok"] = rep(1, 1, Reply::opened());
  m["rsp_read_eof"] = rep(3, 1, Reply::bytes(""));
  m["rsp_read_data"] = rep(3, 1, Reply::bytes("bentos\n"));
  m["rsp_write_count"] = rep(4, 1, Reply::written(12));
  m["rsp_empty_success"] = rep(5, 1, Reply::empty());
  m["rsp_ioctl_result"] = rep(8, 1, Reply::ioctl_result(3));
  m["rsp_ioctl_buf"] = rep(8, 1, Reply::ioctl_result(0, "\xde\xad"));
  m["rsp_poll_pollout"] = rep(10, 1, Reply::polled(0x04));
  m["rsp_err_eagain"] = rep(3, 1, Reply::error(11));
  m["rsp_err_enosys_fh0"] = rep(11, 0, Reply::error(38));
  m["rsp_err_eio_bigids"] = rep(300, kBigFh, Reply::error(5));
  return m;
}

void check_same_request(const Request& got, const Request& want) {
  CHECK(got.id == want.id);
  CHECK(got.fh == want.fh);
  CHECK(got.kind == want.kind);
  CHECK(got.flags == want.flags);
  CHECK(got.size == want.size);
  CHECK(got.offset == want.offset);
  CHECK(got.data == want.data);
  CHECK(got.cmd == want.cmd);
  CHECK(got.out_bufsz == want.out_bufsz);
  CHECK(got.events == want.events);
  CHECK(got.kh == want.kh);
  CHECK(got.fuse_field == want.fuse_field);
}

}  // namespace

TEST_CASE("golden file covers every row this test knows, and nothing unknown") {
  const auto frames = bentos::test::load_golden_frames();
  const auto requests = expected_requests();
  const auto replies = expected_replies();
  std::set<std::string> seen;
  for (const auto& f : frames) {
    INFO(f.name);
    seen.insert(f.name);
    CHECK((requests.count(f.name) + replies.count(f.name)) == 1);
  }
  CHECK(seen.size() == requests.size() + replies.size());
}

TEST_CASE("every golden request frame decodes to its meaning and re-encodes byte for byte") {
  const auto requests = expected_requests();
  int checked = 0;
  for (const auto& f : bentos::test::load_golden_frames()) {
    if (f.name.rfind("req_", 0) != 0) continue;
    INFO(f.name << ": " << f.meaning);
    REQUIRE(f.bytes.size() >= 4);
    const auto* p = reinterpret_cast<const uint8_t*>(f.bytes.data());
    const uint32_t len = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
    REQUIRE(len == f.bytes.size() - 4);
    Request got;
    REQUIRE(bentos::wire::decode_request(p + 4, len, got));
    const Request& want = requests.at(f.name);
    check_same_request(got, want);
    if (want.kind != OpKind::fuse_only) {  // the client only encodes a bare lookup
      std::string encoded;
      bentos::wire::append_request_frame(want, encoded);
      CHECK(bytes_to_hex(encoded) == bytes_to_hex(f.bytes));
    }
    ++checked;
  }
  CHECK(checked == 14);
}

TEST_CASE("every golden response frame is produced byte for byte and decodes back") {
  const auto replies = expected_replies();
  int checked = 0;
  for (const auto& f : bentos::test::load_golden_frames()) {
    if (f.name.rfind("rsp_", 0) != 0) continue;
    INFO(f.name << ": " << f.meaning);
    const Reply& want = replies.at(f.name);
    std::string encoded;
    bentos::wire::append_reply_frame(want, encoded);
    CHECK(bytes_to_hex(encoded) == bytes_to_hex(f.bytes));
    // The host's path: into a connection's segmented output; a read's
    // payload also as pieces, the way a P1 read carries its chunks.
    bentos::wire::SegmentedOutput out;
    Reply moved = want;
    bentos::wire::append_reply_frame(std::move(moved), out);
    CHECK(bytes_to_hex(out.flatten()) == bytes_to_hex(f.bytes));
    if (want.kind == ReplyKind::buf) {
      bentos::wire::ByteSegments pieces;
      for (char c : want.data) pieces.append_copy(std::string(1, c));
      Reply pieced = rep(want.id, want.fh, Reply::segmented(std::move(pieces)));
      out.clear();
      bentos::wire::append_reply_frame(std::move(pieced), out);
      CHECK(bytes_to_hex(out.flatten()) == bytes_to_hex(f.bytes));
    }
    Reply back;
    REQUIRE(bentos::wire::decode_reply(reinterpret_cast<const uint8_t*>(f.bytes.data()) + 4, f.bytes.size() - 4, back));
    CHECK(back.id == want.id);
    CHECK(back.fh == want.fh);
    CHECK(back.kind == want.kind);
    CHECK(back.err == want.err);
    CHECK(back.data == want.data);
    CHECK(back.count == want.count);
    CHECK(back.result == want.result);
    CHECK(back.revents == want.revents);
    ++checked;
  }
  CHECK(checked == 11);
}

TEST_CASE("the in-tree golden frames equal ../shared/spec/golden-frames.tsv where that exists") {
  const std::string shared = bentos::test::shared_dir() + "/spec/golden-frames.tsv";
  if (!std::filesystem::exists(shared)) {
    MESSAGE("SKIPPED: no " << shared << " beside this checkout (a user's clone has none); the in-tree copy is used");
    return;
  }
  CHECK(bentos::test::read_file(bentos::test::test_data_dir() + "/golden-frames.tsv") ==
        bentos::test::read_file(shared));
}

TEST_CASE("a request member with no operation decodes as no_op (ENOSYS), not as no request (EINVAL)") {
  // FuseMessage{id 5, fh 1, request {}}: field 3, length 0.
  const uint8_t empty_request[] = {0x08, 0x05, 0x10, 0x01, 0x1a, 0x00};
  Request out;
  REQUIRE(bentos::wire::decode_request(empty_request, sizeof empty_request, out));
  CHECK(out.kind == OpKind::no_op);
  CHECK(out.id == 5);
  REQUIRE(bentos::wire::detail::decode_request_generated(empty_request, sizeof empty_request, out));
  CHECK(out.kind == OpKind::no_op);
  std::string frame;
  bentos::wire::append_request_frame(req(5, 1, OpKind::no_op), frame);
  CHECK(bytes_to_hex(frame) == "00000006080510011a00");
}

TEST_CASE("bytes that are not a FuseMessage are refused") {
  Request out;
  const uint8_t garbage[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
  CHECK_FALSE(bentos::wire::decode_request(garbage, sizeof garbage, out));
  const uint8_t truncated[] = {0x1a, 0x05, 0x0a, 0x03};  // request claims 5 bytes, has 2
  CHECK_FALSE(bentos::wire::decode_request(truncated, sizeof truncated, out));
}

TEST_CASE("an envelope carrying a response instead of a request decodes as no request") {
  std::string frame;
  bentos::wire::append_reply_frame(rep(7, 3, Reply::opened()), frame);
  Request out;
  REQUIRE(bentos::wire::decode_request(reinterpret_cast<const uint8_t*>(frame.data()) + 4, frame.size() - 4, out));
  CHECK(out.kind == OpKind::none);
  CHECK(out.id == 7);
  CHECK(out.fh == 3);
}
