// bentos-driver-host: parse the command line, load the manifests, start
// every device, serve until SIGINT/SIGTERM.
#include <signal.h>
#include <unistd.h>
#include <uv.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <memory>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "build_config.h"
#include "config/manifest.h"
#include "config/options.h"
#include "daemon/control_server.h"
#include "daemon/host.h"
#include "daemon/sd_notify.h"
#include "net/endpoint.h"
#include "util/log.h"

namespace {

using bentos::config::DeviceSpec;

using ResolvedDevice = bentos::daemon::Host::DeviceConfig;

// Manifests -> devices with their plugin files found; false after printing
// every problem.
bool resolve_devices(const bentos::config::Options& options, std::vector<ResolvedDevice>& out,
                     bentos::config::HostSettings& host) {
  const auto missing = options.config_is_default ? bentos::config::MissingPaths::ignore
                                                 : bentos::config::MissingPaths::error;
  bentos::config::LoadResult loaded = bentos::config::load_manifests(options.config_paths, options.socket_dir, missing);
  bool ok = loaded.ok();
  host = loaded.host;
  for (const auto& e : loaded.errors) bentos::log::error("", e);
  for (auto& spec : loaded.devices) {
    std::string error;
    const std::string dir = std::filesystem::path(spec.source_file).parent_path().string();
    auto path = bentos::config::find_plugin(spec.plugin, dir, options.plugin_dirs, error);
    if (!path) {
      bentos::log::error("", spec.source_file + ": device '" + spec.name + "': key 'plugin': " + error);
      ok = false;
      continue;
    }
    // Absolute, so logs and the control socket name the file unambiguously.
    out.push_back({std::move(spec), std::filesystem::absolute(*path).lexically_normal().string()});
  }
  return ok;
}

int run_check(const std::vector<ResolvedDevice>& devices, bool manifests_ok) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  int failures = manifests_ok ? 0 : 1;
  {
    bentos::daemon::Host host(&loop, {});
    for (const auto& d : devices) {
      std::string error;
      if (!host.add_device(d.spec, d.plugin_path, /*listen=*/false, error)) {
        bentos::log::error("", error);
        ++failures;
        continue;
      }
      std::printf("ok: device '%s': plugin %s, config accepted\n", d.spec.name.c_str(), d.plugin_path.c_str());
    }
    host.stop();
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  if (failures == 0) std::printf("configuration ok: %zu device(s)\n", devices.size());
  return failures == 0 ? 0 : 1;
}

struct Signals {
  uv_signal_t sigint;
  uv_signal_t sigterm;
  uv_signal_t sighup;
  std::function<void(int)> on_signal;
};

// Re-reads the manifests and applies them (SIGHUP, or `reload` on the
// control socket). A configuration with errors changes nothing.
bentos::daemon::ControlServer::ReloadOutcome reload(const bentos::config::Options& options,
                                                    bentos::daemon::Host& host) {
  bentos::daemon::ControlServer::ReloadOutcome out;
  std::vector<ResolvedDevice> devices;
  bentos::config::HostSettings settings;
  if (!resolve_devices(options, devices, settings)) {
    out.errors.push_back("the configuration has errors (see the log); nothing changed");
    bentos::log::error("", "reload: the configuration has errors; nothing changed");
    return out;
  }
  auto report = host.reload(devices);
  const auto names = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& n : v) s += (s.empty() ? "" : ", ") + n;
    return s.empty() ? std::string("none") : s;
  };
  bentos::log::info("", "reload: added " + names(report.added) + "; removed " + names(report.removed) +
                            "; restarted " + names(report.restarted) + "; unchanged " + names(report.unchanged));
  for (const auto& e : report.errors) bentos::log::error("", "reload: " + e);
  out.added = std::move(report.added);
  out.removed = std::move(report.removed);
  out.restarted = std::move(report.restarted);
  out.unchanged = std::move(report.unchanged);
  out.errors = std::move(report.errors);
  return out;
}

// Bounds shutdown: started when it begins, a thread that, unless finish()
// comes first, logs which device was being stopped (a plugin's destroy or
// a callback that hangs), removes the socket files and exits 0.
class ShutdownGuard {
 public:
  ~ShutdownGuard() { finish(); }

  void start(std::chrono::milliseconds bound, std::shared_ptr<const bentos::daemon::Host::StopProgress> progress,
             std::vector<std::string> socket_files) {
    if (thread_.joinable()) return;
    thread_ = std::thread([this, bound, progress = std::move(progress), files = std::move(socket_files)] {
      std::unique_lock<std::mutex> lock(mutex_);
      if (done_changed_.wait_for(lock, bound, [this] { return done_; })) return;
      const std::string device = progress->get();
      const std::string seconds = std::to_string(bound.count() / 1000) + " s";
      if (device.empty()) {
        bentos::log::error("", "shutdown: did not finish within " + seconds + "; exiting anyway");
      } else {
        bentos::log::error("", "shutdown: device '" + device + "' did not stop within " + seconds +
                                   "; exiting anyway");
      }
      for (const auto& f : files) ::unlink(f.c_str());
      ::_exit(0);
    });
  }

  void finish() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      done_ = true;
    }
    done_changed_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::mutex mutex_;
  std::condition_variable done_changed_;
  bool done_ = false;
  std::thread thread_;
};

constexpr std::chrono::milliseconds kShutdownBound{5000};

std::string serving_status(bentos::daemon::Host& host) {
  const size_t n = host.devices().size();
  return "serving " + std::to_string(n) + (n == 1 ? " device" : " devices");
}

// The unix socket files the host listens on (the guard removes them if
// shutdown has to be cut short).
std::vector<std::string> socket_files(bentos::daemon::Host& host, const std::string& control_socket) {
  std::vector<std::string> out;
  std::vector<std::string> uris;
  for (auto* d : host.devices()) uris.push_back(d->endpoint_uri());
  if (!control_socket.empty()) uris.push_back(control_socket);
  for (const auto& uri : uris) {
    bentos::net::Endpoint endpoint;
    std::string error;
    if (bentos::net::parse_endpoint(uri, endpoint, error) && endpoint.kind == bentos::net::Endpoint::Kind::unix_socket)
      out.push_back(endpoint.path);
  }
  return out;
}

void on_signal(uv_signal_t* handle, int signum) { static_cast<Signals*>(handle->data)->on_signal(signum); }

int serve(const bentos::config::Options& options, const std::vector<ResolvedDevice>& devices,
          const bentos::config::HostSettings& settings) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  bentos::daemon::SdNotifier notifier;
  ShutdownGuard guard;  // outlives the host: it may have to name a device the host is stopping
  auto host = std::make_unique<bentos::daemon::Host>(&loop, bentos::daemon::Host::Settings{settings.max_connections});
  // A reload, framed for systemd: RELOADING=1 before, READY=1 after.
  const auto notified_reload = [&options, &host, &notifier] {
    notifier.reloading();
    auto outcome = reload(options, *host);
    notifier.ready(serving_status(*host));
    return outcome;
  };
  // The control socket first: once a device socket accepts, it answers too.
  std::unique_ptr<bentos::daemon::ControlServer> control;
  if (!options.control_socket.empty()) {
    std::string error;
    control = bentos::daemon::ControlServer::open(*host, options.control_socket, error,
                                                  notified_reload);
    if (!control && options.control_socket_is_default) {
      // A development run without /run/bentos: serve the devices anyway.
      bentos::log::warn("", error + "; going on without a control socket (--control-socket PATH or none)");
    } else if (!control) {
      bentos::log::error("", error);
      host->stop();
      uv_run(&loop, UV_RUN_DEFAULT);
      return 1;
    }
  }
  // Signals before any device socket listens: a client that sees a socket
  // may signal at once (SIGHUP to reload, SIGTERM to stop).
  Signals signals;
  const auto close_signals = [&signals] {
    for (uv_signal_t* h : {&signals.sigint, &signals.sigterm, &signals.sighup}) {
      if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(h))) uv_close(reinterpret_cast<uv_handle_t*>(h), nullptr);
    }
  };
  signals.on_signal = [&](int signum) {
    if (signum == SIGHUP) {
      bentos::log::info("", "received SIGHUP; reloading the manifests");
      notified_reload();
      return;
    }
    bentos::log::info("", std::string("received ") + (signum == SIGINT ? "SIGINT" : "SIGTERM") + "; shutting down");
    notifier.stopping();
    notifier.stop_watchdog();
    guard.start(kShutdownBound, host->stop_progress(), socket_files(*host, options.control_socket));
    control.reset();
    host->stop();
    close_signals();
  };
  for (auto [handle, signum] : {std::pair{&signals.sigint, SIGINT}, std::pair{&signals.sigterm, SIGTERM},
                                std::pair{&signals.sighup, SIGHUP}}) {
    uv_signal_init(&loop, handle);
    handle->data = &signals;
    uv_signal_start(handle, on_signal, signum);
  }

  for (const auto& d : devices) {
    std::string error;
    if (!host->add_device(d.spec, d.plugin_path, /*listen=*/true, error)) {
      bentos::log::error("", error);
      close_signals();
      control.reset();
      host->stop();
      uv_run(&loop, UV_RUN_DEFAULT);
      return 1;
    }
  }
  for (auto* d : host->devices()) {
    bentos::log::info(d->name(), "serving on " + d->endpoint_uri() + " (plugin " + d->library().name() + " " +
                                     d->library().version() + ", " +
                                     bentos::patterns::pattern_name(d->library().pattern()) + ")");
  }
  bentos::log::info("", std::string("bentos-driver-host ") + BENTOS_VERSION + " ready: " +
                            std::to_string(devices.size()) + " device(s)");
  // Every socket listens: tell systemd (Type=notify).
  notifier.ready(serving_status(*host));
  notifier.start_watchdog(&loop);

  uv_run(&loop, UV_RUN_DEFAULT);
  host.reset();
  uv_run(&loop, UV_RUN_DEFAULT);  // let the last close callbacks run
  uv_loop_close(&loop);
  guard.finish();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);  // a peer that vanishes mid-write is an error code, not a death
  const std::string program = "bentos-driver-host";
  auto outcome = bentos::config::parse_command_line(argc, argv, BENTOS_DEFAULT_SYSCONFDIR, BENTOS_DEFAULT_PLUGIN_DIR);
  if (!outcome.error.empty()) {
    std::fprintf(stderr, "%s: %s\nTry '%s --help'.\n", program.c_str(), outcome.error.c_str(), program.c_str());
    return 2;
  }
  const auto& options = outcome.options;
  if (options.show_help) {
    std::fputs(bentos::config::usage_text(program, BENTOS_DEFAULT_SYSCONFDIR, BENTOS_DEFAULT_PLUGIN_DIR).c_str(), stdout);
    return 0;
  }
  if (options.show_version) {
    std::printf("%s %s (driver ABI %d.%d)\n", program.c_str(), BENTOS_VERSION, BENTOS_ABI_MAJOR, BENTOS_ABI_MINOR);
    return 0;
  }
  bentos::log::set_level(options.log_level);
  std::vector<ResolvedDevice> devices;
  bentos::config::HostSettings host_settings;
  const bool manifests_ok = resolve_devices(options, devices, host_settings);
  if (options.check) return run_check(devices, manifests_ok);
  if (!manifests_ok) {
    bentos::log::error("", "not starting: fix the configuration above (check it with --check)");
    return 1;
  }
  return serve(options, devices, host_settings);
}
