#include "sse_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

namespace bentos::bench {

bool SseDecoder::fail(std::string why) {
  error_ = std::move(why);
  return false;
}

bool SseDecoder::feed(const char* data, size_t len, std::vector<std::string>& texts) {
  if (!error_.empty()) return false;
  in_.append(data, len);
  bool ok = true;
  if (stage_ == Stage::head && !head()) {
    ok = error_.empty();  // no error: the head is incomplete
  } else {
    ok = body(texts);
  }
  in_.erase(0, pos_);
  pos_ = 0;
  return ok;
}

// The status line and headers; true once they are consumed (false and no
// error while they are still incomplete).
bool SseDecoder::head() {
  const size_t end = in_.find("\r\n\r\n", pos_);
  if (end == std::string::npos) return false;
  std::string headers = in_.substr(pos_, end - pos_);
  pos_ = end + 4;
  if (headers.rfind("HTTP/1.1 200", 0) != 0) return fail("not a 200: " + headers.substr(0, headers.find('\r')));
  std::transform(headers.begin(), headers.end(), headers.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (headers.find("\r\ntransfer-encoding: chunked") == std::string::npos) return fail("the body is not chunked");
  stage_ = Stage::chunk_size;
  return true;
}

bool SseDecoder::body(std::vector<std::string>& texts) {
  for (;;) {
    const size_t left = in_.size() - pos_;
    switch (stage_) {
      case Stage::head:
      case Stage::finished: return true;
      case Stage::chunk_size: {
        const size_t eol = in_.find("\r\n", pos_);
        if (eol == std::string::npos) return true;
        const char* start = in_.c_str() + pos_;
        char* end = nullptr;
        chunk_left_ = std::strtoul(start, &end, 16);
        if (end == start) return fail("a bad chunk size line");
        pos_ = eol + 2;
        if (chunk_left_ == 0) {  // the last chunk: the response is over
          stage_ = Stage::finished;
          done_ = true;
          return true;
        }
        stage_ = Stage::chunk_data;
        break;
      }
      case Stage::chunk_data: {
        if (left == 0) return true;
        const size_t n = std::min(chunk_left_, left);
        lines_.append(in_, pos_, n);
        pos_ += n;
        chunk_left_ -= n;
        size_t start = 0;
        for (size_t nl; (nl = lines_.find('\n', start)) != std::string::npos; start = nl + 1) {
          if (!line(lines_.substr(start, nl - start), texts)) return false;
        }
        lines_.erase(0, start);
        if (chunk_left_ == 0) stage_ = Stage::chunk_end;
        break;
      }
      case Stage::chunk_end:
        if (left < 2) return true;
        if (in_.compare(pos_, 2, "\r\n") != 0) return fail("a chunk without its CRLF");
        pos_ += 2;
        stage_ = Stage::chunk_size;
        break;
    }
  }
}

// One SSE line: blank lines (event ends), comments and other fields carry
// no content; a `data:` line is one chat.completion.chunk, or [DONE].
bool SseDecoder::line(const std::string& text, std::vector<std::string>& texts) {
  if (text.rfind("data:", 0) != 0) return true;
  const size_t start = text.size() > 5 && text[5] == ' ' ? 6 : 5;
  const std::string payload = text.substr(start);
  if (payload == "[DONE]") {
    done_ = true;
    return true;
  }
  const auto value = nlohmann::json::parse(payload, nullptr, false);
  if (value.is_discarded()) return fail("a data line that is not JSON");
  const auto choices = value.find("choices");
  if (choices == value.end() || !choices->is_array() || choices->empty()) return true;  // the usage chunk
  const auto& delta = (*choices)[0].value("delta", nlohmann::json::object());
  const auto content = delta.find("content");
  if (content != delta.end() && content->is_string() && !content->get_ref<const std::string&>().empty()) {
    texts.push_back(content->get<std::string>());
  }
  return true;
}

std::unique_ptr<SseStream> SseStream::open(int port, const std::string& body, std::string& error) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = std::string("socket: ") + std::strerror(errno);
    return nullptr;
  }
  std::unique_ptr<SseStream> stream(new SseStream(fd));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // As curl does: small event writes must not wait for Nagle.
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    error = "connect 127.0.0.1:" + std::to_string(port) + ": " + std::strerror(errno);
    return nullptr;
  }
  const std::string request = "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                              "Content-Type: application/json\r\nAccept: text/event-stream\r\n"
                              "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  for (size_t off = 0; off < request.size();) {
    const ssize_t n = ::send(fd, request.data() + off, request.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = std::string("send: ") + std::strerror(errno);
      return nullptr;
    }
    off += static_cast<size_t>(n);
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  return stream;
}

SseStream::~SseStream() { ::close(fd_); }

bool SseStream::receive(std::vector<std::string>& texts, std::string& error) {
  char buf[16384];
  for (;;) {
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n > 0) {
      if (!decoder_.feed(buf, static_cast<size_t>(n), texts)) {
        error = decoder_.error();
        return false;
      }
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    if (n == 0 && decoder_.done()) return true;
    error = n == 0 ? "the mock closed the stream before its end" : std::string("recv: ") + std::strerror(errno);
    return false;
  }
}

}  // namespace bentos::bench
