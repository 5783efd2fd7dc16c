// The `metrics` answer of a host with isolated devices: the host's own
// exposition with each child's device families merged in (one HELP and
// TYPE per family, the children's samples after the host's), the host-wide
// gauges adding the children's figures, and two families only the parent
// knows: bentos_device_restarts_total and bentos_device_child_up.
//
// Plain functions over text; no thread affinity.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bentos::daemon {

// What the parent knows of one isolated device.
struct ChildMetrics {
  std::string device;
  std::string text;  // the child's own exposition; "" when it did not answer
  bool up = false;   // a child serves the device now
  uint64_t restarts = 0;
};

// `host_text`: metrics_text() of this process's devices, with `devices`
// counting every device (isolated ones too).
std::string merge_metrics(const std::string& host_text, const std::vector<ChildMetrics>& children);

}  // namespace bentos::daemon
