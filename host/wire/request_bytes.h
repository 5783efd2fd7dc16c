// The byte payload of a request (write data, ioctl in_buf).
//
// On the host's hot path it is a view into the frame it was parsed from
// (request_parser.cpp): no copy, and valid only while the frame is, which
// is during the Connection::Handler::on_frame call that delivered it. Code
// that keeps the bytes longer (a callback on a worker thread, a queued
// record) copies them, explicitly, when it keeps them.
//
// When the bytes do not sit in a frame (the generated-parser fallback,
// which decodes into its own objects; clients and tests building a request)
// they are owned here instead, on the heap, so the view follows them
// through moves; a copy copies them. Assign a std::string to own bytes;
// only view_of() makes a view, so a temporary string can never be viewed
// by accident.
//
// Value type; no thread affinity.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace bentos::wire {

class RequestBytes {
 public:
  RequestBytes() = default;
  // A view of bytes someone else keeps alive for as long as it is used.
  static RequestBytes view_of(std::string_view bytes) {
    RequestBytes b;
    b.view_ = bytes;
    return b;
  }

  RequestBytes(const RequestBytes& other) { *this = other; }
  RequestBytes& operator=(const RequestBytes& other) {
    if (this == &other) return *this;
    if (other.owned_) return *this = std::string(other.view_);
    owned_.reset();
    view_ = other.view_;
    return *this;
  }
  // The owned string stays where it is on the heap: the view stays valid.
  RequestBytes(RequestBytes&&) noexcept = default;
  RequestBytes& operator=(RequestBytes&&) noexcept = default;

  // Owns `bytes`.
  RequestBytes& operator=(std::string bytes) {
    owned_ = std::make_unique<std::string>(std::move(bytes));
    view_ = *owned_;
    return *this;
  }
  RequestBytes& operator=(const char* text) { return *this = std::string(text); }

  std::string_view view() const { return view_; }
  operator std::string_view() const { return view_; }  // NOLINT: reads like the bytes it is
  const char* data() const { return view_.data(); }
  size_t size() const { return view_.size(); }
  bool empty() const { return view_.empty(); }
  // A copy the caller owns.
  std::string str() const { return std::string(view_); }

  friend bool operator==(const RequestBytes& a, const RequestBytes& b) { return a.view_ == b.view_; }
  friend bool operator==(const RequestBytes& a, std::string_view b) { return a.view_ == b; }

 private:
  std::string_view view_;
  std::unique_ptr<std::string> owned_;  // set when the bytes are not a view
};

}  // namespace bentos::wire
