#include "daemon/metrics_text.h"

#include <charconv>
#include <cstring>
#include <string_view>
#include <utility>

#include "wire/ops.h"

namespace bentos::daemon {

namespace {

using device::DeviceStats;
using device::LatencyHistogram;

using Labels = std::vector<std::pair<std::string_view, std::string>>;

// The shortest text that reads back as the same double (what Prometheus'
// own clients print), e.g. 2.56e-07, 68.719476736, 0.5.
std::string number(double value) {
  char buf[64];
  const auto result = std::to_chars(buf, buf + sizeof buf, value);
  return std::string(buf, result.ptr);
}

std::string number(uint64_t value) { return std::to_string(value); }

// A label value in its quotes: backslash, double quote and line feed are
// the three characters the format escapes.
void append_label_value(std::string& out, std::string_view value) {
  out += '"';
  for (const char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  out += '"';
}

// One family's HELP and TYPE lines. HELP text escapes backslash and line
// feed (ours has neither, but a future edit might).
void family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  for (const char c : help) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void sample(std::string& out, std::string_view name, const Labels& labels, const std::string& value) {
  out += name;
  if (!labels.empty()) {
    out += '{';
    for (size_t i = 0; i < labels.size(); ++i) {
      if (i) out += ',';
      out += labels[i].first;
      out += '=';
      append_label_value(out, labels[i].second);
    }
    out += '}';
  }
  out += ' ';
  out += value;
  out += '\n';
}

// A family with one sample per device, labelled `device`.
template <typename Read>
void per_device(std::string& out, const HostMetrics& m, std::string_view name, std::string_view type,
                std::string_view help, Read read) {
  family(out, name, type, help);
  for (const DeviceMetrics& d : m.devices) sample(out, name, {{"device", d.name}}, number(read(d)));
}

void host_families(std::string& out, const HostMetrics& m) {
  uint64_t connections = 0, sessions = 0;
  for (const DeviceMetrics& d : m.devices) {
    connections += d.connections;
    sessions += d.sessions;
  }
  family(out, "bentos_build_info", "gauge", "Always 1; the label version is the running bentos-driver-host's.");
  sample(out, "bentos_build_info", {{"version", m.version}}, "1");
  family(out, "bentos_uptime_seconds", "gauge", "Seconds since the host started.");
  sample(out, "bentos_uptime_seconds", {}, number(m.uptime_seconds));
  family(out, "bentos_devices", "gauge", "Devices the host serves.");
  sample(out, "bentos_devices", {}, number(uint64_t{m.device_count ? m.device_count : m.devices.size()}));
  family(out, "bentos_connections", "gauge", "Client connections open now, all devices.");
  sample(out, "bentos_connections", {}, number(connections));
  family(out, "bentos_sessions", "gauge", "Open sessions (opened handles) now, all devices.");
  sample(out, "bentos_sessions", {}, number(sessions));
  family(out, "bentos_max_connections", "gauge", "The host-wide connection limit (max_connections).");
  sample(out, "bentos_max_connections", {}, number(m.max_connections));
}

void device_counters(std::string& out, const HostMetrics& m) {
  per_device(out, m, "bentos_device_connections", "gauge", "Client connections open now.",
             [](const DeviceMetrics& d) { return d.connections; });
  per_device(out, m, "bentos_device_sessions", "gauge", "Sessions (opened handles) open now.",
             [](const DeviceMetrics& d) { return d.sessions; });
  per_device(out, m, "bentos_device_connections_accepted_total", "counter", "Client connections accepted.",
             [](const DeviceMetrics& d) { return d.stats->connections_accepted; });
  per_device(out, m, "bentos_device_sessions_opened_total", "counter", "Sessions opened (successful opens).",
             [](const DeviceMetrics& d) { return d.stats->sessions_opened; });

  // Every op, even at 0, as `stats` lists them: a rate over a series that
  // appears with its first request would miss that request.
  const std::string_view requests = "bentos_device_requests_total";
  family(out, requests, "counter", "Requests decoded, by op.");
  for (const DeviceMetrics& d : m.devices) {
    for (size_t op = 0; op < DeviceStats::kOps; ++op) {
      const auto kind = static_cast<wire::OpKind>(op);
      sample(out, requests, {{"device", d.name}, {"op", wire::op_name(kind)}}, number(d.stats->requests(kind)));
    }
  }
  per_device(out, m, "bentos_device_replies_total", "counter", "Replies encoded, errors included.",
             [](const DeviceMetrics& d) { return d.stats->replies(); });

  // Only the errnos seen, as `stats` lists them (there are 255 possible).
  const std::string_view errors = "bentos_device_errors_total";
  family(out, errors, "counter", "Replies that answered an errno, by its symbolic name (other: errno 256 and up).");
  for (const DeviceMetrics& d : m.devices) {
    for (size_t err = 0; err < DeviceStats::kErrnos; ++err) {
      if (d.stats->errors(err) == 0) continue;
      sample(out, errors, {{"device", d.name}, {"errno", errno_name(err)}}, number(d.stats->errors(err)));
    }
  }

  per_device(out, m, "bentos_device_received_bytes_total", "counter",
             "Frame bytes read from clients, length prefixes included (stats: bytes_in).",
             [](const DeviceMetrics& d) { return d.stats->bytes_in; });
  per_device(out, m, "bentos_device_sent_bytes_total", "counter",
             "Frame bytes written to clients, length prefixes included (stats: bytes_out).",
             [](const DeviceMetrics& d) { return d.stats->bytes_out; });
  per_device(out, m, "bentos_device_malformed_frames_total", "counter",
             "Frames whose payload is not a FuseMessage (skipped).",
             [](const DeviceMetrics& d) { return d.stats->malformed_frames; });
  per_device(out, m, "bentos_device_plugin_exceptions_total", "counter",
             "Exceptions the plugin let escape a callback (caught by the host).",
             [](const DeviceMetrics& d) { return d.plugin_exceptions; });
}

void limit_counters(std::string& out, const HostMetrics& m) {
  const std::string_view name = "bentos_device_limit_hits_total";
  family(out, name, "counter",
         "Times a limit was hit, by limit (the names of stats' limits; bentos-devices.json(5) explains each).");
  for (const DeviceMetrics& d : m.devices) {
    const device::LimitCounters& l = d.stats->limits;
    const std::pair<const char*, uint64_t> limits[] = {
        {"frames_too_big", l.frames_too_big},
        {"requests_too_big", l.requests_too_big},
        {"sessions_refused", l.sessions_refused},
        {"request_timeouts", d.request_timeouts},
        {"buffer_full", d.stats->buffer_full->load(std::memory_order_relaxed)},
        {"dropped_events", d.dropped_events},
        {"connections_over_max", l.connections_over_max},
        {"peers_refused", l.peers_refused},
    };
    for (const auto& [limit, value] : limits) sample(out, name, {{"device", d.name}, {"limit", limit}}, number(value));
  }
}

// The histogram of one device's op: cumulative counts at each bound, read
// from the host's finer buckets (the bounds are edges of those).
void latency_histogram(std::string& out, const std::string& device, std::string_view op, const LatencyHistogram& h) {
  static constexpr std::string_view kBase = "bentos_device_reply_latency_seconds";
  const std::string bucket = std::string(kBase) + "_bucket";
  uint64_t below = 0;  // samples in the host's buckets before `next`
  size_t next = 0;
  for (unsigned power = kLatencyFirstPower; power <= kLatencyLastPower; ++power) {
    const uint64_t bound_ns = uint64_t{1} << power;
    for (; next < LatencyHistogram::kBuckets && LatencyHistogram::bucket_low(next) < bound_ns; ++next) {
      below += h.bucket_count(next);
    }
    const double bound_seconds = static_cast<double>(bound_ns) / 1e9;
    sample(out, bucket, {{"device", device}, {"op", std::string(op)}, {"le", number(bound_seconds)}}, number(below));
  }
  sample(out, bucket, {{"device", device}, {"op", std::string(op)}, {"le", "+Inf"}}, number(h.count()));
  sample(out, std::string(kBase) + "_sum", {{"device", device}, {"op", std::string(op)}},
         number(static_cast<double>(h.sum()) / 1e9));
  sample(out, std::string(kBase) + "_count", {{"device", device}, {"op", std::string(op)}}, number(h.count()));
}

void latency_histograms(std::string& out, const HostMetrics& m) {
  family(out, "bentos_device_reply_latency_seconds", "histogram",
         "From the socket read that brought a request to the write that handed its reply to the kernel, by op.");
  // Ops that have answered at least once, as `stats` lists them: 30 series
  // for each op a device never sees would swamp the rest.
  for (const DeviceMetrics& d : m.devices) {
    for (size_t op = 0; op < DeviceStats::kOps; ++op) {
      const auto kind = static_cast<wire::OpKind>(op);
      const LatencyHistogram& h = d.stats->latency(kind);
      if (h.count() != 0) latency_histogram(out, d.name, wire::op_name(kind), h);
    }
  }
}

}  // namespace

std::string errno_name(size_t err) {
  if (err == 0) return "other";
  const char* name = ::strerrorname_np(static_cast<int>(err));
  return name ? name : "E" + std::to_string(err);
}

std::string metrics_text(const HostMetrics& metrics) {
  std::string out;
  out.reserve(4096 + metrics.devices.size() * 8192);
  host_families(out, metrics);
  device_counters(out, metrics);
  limit_counters(out, metrics);
  latency_histograms(out, metrics);
  return out;
}

}  // namespace bentos::daemon
