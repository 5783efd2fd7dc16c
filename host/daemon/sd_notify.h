// The sd_notify datagram protocol (systemd Type=notify), spoken directly
// without libsystemd: newline-separated KEY=VALUE assignments in one
// AF_UNIX datagram to $NOTIFY_SOCKET (an absolute path, or '@' for the
// abstract namespace). With NOTIFY_SOCKET unset every call is a no-op.
//
//   ready("serving 6 devices")  -> READY=1\nSTATUS=serving 6 devices
//   reloading()                 -> RELOADING=1\nMONOTONIC_USEC=<µs>
//   stopping()                  -> STOPPING=1
//   watchdog timer              -> WATCHDOG=1 every WATCHDOG_USEC/2
//   send_with_fd("FDSTORE=1\nFDNAME=...", fd)  -> the fd rides along
//                                  (SCM_RIGHTS): systemd's fd store
//
// Owned by main(); loop thread only.
#pragma once

#include <sys/types.h>
#include <uv.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace bentos::daemon {

class SdNotifier {
 public:
  // Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID.
  SdNotifier();
  ~SdNotifier();
  SdNotifier(const SdNotifier&) = delete;
  SdNotifier& operator=(const SdNotifier&) = delete;

  bool enabled() const { return fd_ >= 0; }
  // Sends one datagram; false (and logged once) when it could not be sent.
  bool send(std::string_view message);
  // Sends one datagram carrying a copy of `fd` (SCM_RIGHTS), as FDSTORE=1
  // needs; false (logged once) when it could not be sent.
  bool send_with_fd(std::string_view message, int fd);

  void ready(std::string_view status);
  void reloading();
  void stopping();

  // When WATCHDOG_USEC is set (and WATCHDOG_PID is unset or ours), sends
  // WATCHDOG=1 every WATCHDOG_USEC/2 from a timer on `loop`. The timer
  // keeps the loop alive until stop_watchdog().
  void start_watchdog(uv_loop_t* loop);
  void stop_watchdog();
  uint64_t watchdog_usec() const { return watchdog_usec_; }

 private:
  int fd_ = -1;
  std::string address_;  // sockaddr_un bytes (sun_family + path)
  uint64_t watchdog_usec_ = 0;
  uv_timer_t* timer_ = nullptr;
  bool send_failed_logged_ = false;
  bool report_send(ssize_t sent, size_t wanted);
};

}  // namespace bentos::daemon
