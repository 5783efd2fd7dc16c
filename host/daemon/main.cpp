// bentos-driver-host: parse the command line, load the manifests, start
// every device, serve until SIGINT/SIGTERM.
#include <signal.h>
#include <unistd.h>
#include <uv.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "build_config.h"
#include "config/manifest.h"
#include "config/options.h"
#include "daemon/config_dump.h"
#include "daemon/control_server.h"
#include "daemon/crash_report.h"
#include "daemon/host.h"
#include "daemon/isolated_child.h"
#include "isolation/child_check.h"
#include "isolation/child_process.h"
#include "daemon/malloc_tuning.h"
#include "daemon/reloader.h"
#include "daemon/sd_notify.h"
#include "daemon/socket_store.h"
#include "net/inherited_sockets.h"
#include "net/endpoint.h"
#include "plugin/lifecycle.h"
#include "util/log.h"

namespace {

using bentos::config::DeviceSpec;

using ResolvedDevice = bentos::daemon::Host::DeviceConfig;

// sysexits.h's EX_CONFIG: the configuration is wrong, so restarting into
// it cannot help (the units say RestartPreventExitStatus=78).
constexpr int kExitConfig = 78;

// Manifests -> devices with their plugin files found; false after printing
// every problem (also added to `problems`, when given).
bool resolve_devices(const bentos::config::Options& options, std::vector<ResolvedDevice>& out,
                     bentos::config::HostSettings& host, std::vector<std::string>* problems = nullptr) {
  const auto missing = options.config_is_default ? bentos::config::MissingPaths::ignore
                                                 : bentos::config::MissingPaths::error;
  bentos::config::LoadResult loaded = bentos::config::load_manifests(options.config_paths, options.socket_dir, missing);
  bool ok = loaded.ok();
  host = loaded.host;
  for (const auto& e : loaded.errors) bentos::log::error("", e);
  if (problems) problems->insert(problems->end(), loaded.errors.begin(), loaded.errors.end());
  for (auto& spec : loaded.devices) {
    std::string error;
    const std::string dir = std::filesystem::path(spec.source_file).parent_path().string();
    auto path = bentos::config::find_plugin(spec.plugin, dir, options.plugin_dirs, error);
    if (!path) {
      bentos::log::error("", spec.source_file + ": device '" + spec.name + "': key 'plugin': " + error);
      if (problems) problems->push_back(spec.source_file + ": device '" + spec.name + "': key 'plugin': " + error);
      ok = false;
      continue;
    }
    // Absolute, so logs and the control socket name the file unambiguously.
    out.push_back({std::move(spec), std::filesystem::absolute(*path).lexically_normal().string()});
  }
  return ok;
}

bentos::daemon::Host::Settings make_host_settings(const bentos::config::Options& options,
                                                  const bentos::config::HostSettings& manifests) {
  bentos::daemon::Host::Settings settings;
  settings.max_connections = manifests.max_connections;
  settings.allow_insecure_plugins = options.allow_insecure_plugins;
  // Children run this same binary in child mode, told only what they
  // need; the rest comes in their setup line.
  settings.child_launch.executable = bentos::isolation::own_executable();
  settings.child_launch.arguments = {"--log-level", bentos::log::level_name(options.log_level)};
  if (options.allow_insecure_plugins) settings.child_launch.arguments.push_back("--allow-insecure-plugins");
  settings.child_launch.max_connections = manifests.max_connections;
  settings.child_launch.start_timeout_ms = manifests.lifecycle_timeout_ms;
  return settings;
}

int run_check(const bentos::config::Options& options, const std::vector<ResolvedDevice>& devices,
              const bentos::config::HostSettings& manifests, bool manifests_ok) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  int failures = manifests_ok ? 0 : 1;
  // With --dump, standard output carries only the JSON document.
  FILE* report = options.dump ? stderr : stdout;
  std::map<std::string, bentos::patterns::Pattern> patterns;
  {
    const auto settings = make_host_settings(options, manifests);
    bentos::daemon::Host host(&loop, settings);
    for (const auto& d : devices) {
      std::string error;
      if (d.spec.isolation.mode == bentos::config::IsolationMode::process) {
        // Loaded where it will run: a plugin that crashes while loading
        // fails its check instead of ending --check.
        const auto checked = bentos::isolation::check_in_child(d.spec, d.plugin_path, settings.child_launch);
        if (!checked.ok) {
          bentos::log::error("", checked.error);
          ++failures;
          continue;
        }
        for (auto p : {bentos::patterns::Pattern::raw, bentos::patterns::Pattern::stream,
                       bentos::patterns::Pattern::write_read, bentos::patterns::Pattern::event_stream,
                       bentos::patterns::Pattern::configured_stream})
          if (checked.pattern == bentos::patterns::pattern_name(p)) patterns[d.spec.name] = p;
        std::fprintf(report, "ok: device '%s': plugin %s, config accepted (checked in a child process)\n",
                     d.spec.name.c_str(), d.plugin_path.c_str());
        continue;
      }
      if (!host.add_device(d.spec, d.plugin_path, /*listen=*/false, error)) {
        bentos::log::error("", error);
        ++failures;
        continue;
      }
      std::fprintf(report, "ok: device '%s': plugin %s, config accepted\n", d.spec.name.c_str(),
                   d.plugin_path.c_str());
    }
    for (auto* device : host.devices()) patterns[device->name()] = device->library().pattern();
    host.stop();
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  if (options.dump) std::fputs(bentos::daemon::dump_effective_config(options, manifests, devices, patterns).c_str(), stdout);
  if (failures == 0) std::fprintf(report, "configuration ok: %zu device(s)\n", devices.size());
  return failures == 0 ? 0 : kExitConfig;
}

struct Signals {
  uv_signal_t sigint;
  uv_signal_t sigterm;
  uv_signal_t sighup;
  std::function<void(int)> on_signal;
};

std::vector<std::string> device_names(const std::vector<ResolvedDevice>& devices) {
  std::vector<std::string> names;
  for (const auto& d : devices) names.push_back(d.spec.name);
  return names;
}

// Bounds shutdown: started when it begins, a thread that, unless finish()
// comes first, logs which device was being stopped (a plugin's destroy or
// a callback that hangs, or a create/destroy a reload left running),
// removes the socket files and exits 0.
class ShutdownGuard {
 public:
  ~ShutdownGuard() { finish(); }

  void start(std::chrono::milliseconds bound, std::shared_ptr<const bentos::daemon::Host::StopProgress> progress,
             std::vector<std::string> socket_files) {
    if (thread_.joinable()) return;
    thread_ = std::thread([this, bound, progress = std::move(progress), files = std::move(socket_files)] {
      std::unique_lock<std::mutex> lock(mutex_);
      if (done_changed_.wait_for(lock, bound, [this] { return done_; })) return;
      std::string device = progress->get();
      // Past Host::stop(): a plugin hook a reload left running.
      if (device.empty()) bentos::plugin::LifecycleJob::running(&device);
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

// The configured devices that are not running: their plugin was refused
// (trust, ABI), its create() failed, or their socket could not be bound.
std::vector<std::string> skipped_devices(bentos::daemon::Host& host, const std::vector<std::string>& configured) {
  std::vector<std::string> skipped;
  for (const auto& name : configured) {
    bool running = false;
    for (auto* d : host.devices()) running = running || d->name() == name;
    for (auto* d : host.isolated_devices()) running = running || d->name() == name;
    if (!running) skipped.push_back(name);
  }
  return skipped;
}

// systemd's STATUS=: "serving 5 devices", or "serving 5 devices; skipped
// 1: kv (see the log)" so `systemctl status` shows what did not start.
std::string serving_status(bentos::daemon::Host& host, const std::vector<std::string>& configured) {
  const size_t n = host.device_count();
  std::string status = "serving " + std::to_string(n) + (n == 1 ? " device" : " devices");
  const auto skipped = skipped_devices(host, configured);
  if (skipped.empty()) return status;
  status += "; skipped " + std::to_string(skipped.size()) + ":";
  for (size_t i = 0; i < skipped.size(); ++i) status += (i ? ", " : " ") + skipped[i];
  return status + " (see the log)";
}

// The unix socket files the host listens on (the guard removes them if
// shutdown has to be cut short).
std::vector<std::string> socket_files(bentos::daemon::Host& host, const std::string& control_socket) {
  std::vector<std::string> out;
  std::vector<std::string> uris;
  for (auto* d : host.devices()) uris.push_back(d->endpoint_uri());
  for (auto* d : host.isolated_devices()) uris.push_back(d->spec().socket);
  if (!control_socket.empty()) uris.push_back(control_socket);
  for (const auto& uri : uris) {
    bentos::net::Endpoint endpoint;
    std::string error;
    if (bentos::net::parse_endpoint(uri, endpoint, error) && endpoint.kind == bentos::net::Endpoint::Kind::unix_socket)
      out.push_back(endpoint.path);
  }
  return out;
}

// --dev, once the manifests loaded: creates the socket folders (./run
// unless --socket-dir or --control-socket say otherwise) so a fresh project
// folder works.
bool create_dev_folders(const bentos::config::Options& options) {
  std::vector<std::string> folders{options.socket_dir};
  if (!options.control_socket.empty() && options.control_socket.front() == '/')
    folders.push_back(std::filesystem::path(options.control_socket).parent_path().string());
  for (const auto& folder : folders) {
    std::error_code ec;
    std::filesystem::create_directories(folder, ec);
    if (ec) {
      bentos::log::error("", "--dev: cannot create the socket folder " + folder + ": " + ec.message());
      return false;
    }
  }
  return true;
}

void on_signal(uv_signal_t* handle, int signum) { static_cast<Signals*>(handle->data)->on_signal(signum); }

int serve(const bentos::config::Options& options, const std::vector<ResolvedDevice>& devices,
          const bentos::config::HostSettings& settings) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  bentos::daemon::SdNotifier notifier;
  // Sockets systemd kept for us across a restart, and the store they go
  // back to (outlives every listener, which reports to it).
  bentos::daemon::SocketStore sockets(notifier, bentos::net::take_inherited_sockets());
  ShutdownGuard guard;  // outlives the host: it may have to name a device the host is stopping
  auto host = std::make_unique<bentos::daemon::Host>(&loop, make_host_settings(options, settings));
  host->context().set_socket_handover(&sockets);
  std::vector<std::string> configured = device_names(devices);
  // Reloads (SIGHUP, the control socket), framed for systemd: RELOADING=1
  // before, READY=1 when the reload is done.
  bentos::daemon::Reloader reloader(
      *host, {[&options](std::vector<ResolvedDevice>& out, bentos::config::HostSettings& now,
                         std::vector<std::string>& problems) { return resolve_devices(options, out, now, &problems); },
              [&notifier] { notifier.reloading(); },
              [&notifier, &host, &configured](const std::vector<std::string>* now) {
                if (now) configured = *now;
                notifier.ready(serving_status(*host, configured));
              }});
  // The control socket first: once a device socket accepts, it answers too.
  std::unique_ptr<bentos::daemon::ControlServer> control;
  if (!options.control_socket.empty()) {
    std::string error;
    control = bentos::daemon::ControlServer::open(
        *host, options.control_socket, error,
        [&reloader](std::function<void(const bentos::daemon::ReloadOutcome&)> answer) {
          reloader.request(std::move(answer));
        });
    if (!control && options.control_socket_is_default) {
      // A development run without /run/bentos: serve the devices anyway.
      bentos::log::warn("", error + "; going on without a control socket (--control-socket PATH or none)");
    } else if (!control) {
      bentos::log::error("", error);
      host.reset();
      uv_run(&loop, UV_RUN_DEFAULT);
      uv_loop_close(&loop);
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
      reloader.request({});
      return;
    }
    bentos::log::info("", std::string("received ") + (signum == SIGINT ? "SIGINT" : "SIGTERM") + "; shutting down");
    notifier.stopping();
    notifier.stop_watchdog();
    // systemd keeps the listening sockets for the next process (it cannot
    // tell us whether one comes: `systemctl stop` and `restart` look the
    // same from here), so their files stay; a stop for good leaves stale
    // files, which the next start replaces.
    sockets.begin_handover();
    guard.start(kShutdownBound, host->stop_progress(),
                sockets.handing_over() ? std::vector<std::string>{} : socket_files(*host, options.control_socket));
    control.reset();
    // A reload in flight is abandoned: nobody is answered any more, and the
    // plugin hooks it runs finish on their threads (waited for below).
    reloader.stop();
    host->stop();
    close_signals();
  };
  for (auto [handle, signum] : {std::pair{&signals.sigint, SIGINT}, std::pair{&signals.sigterm, SIGTERM},
                                std::pair{&signals.sighup, SIGHUP}}) {
    uv_signal_init(&loop, handle);
    handle->data = &signals;
    uv_signal_start(handle, on_signal, signum);
  }

  // A device that cannot start (its plugin refused or its create()
  // failed, its socket unusable) is reported and skipped: one broken
  // driver must not take the others down. Only when none of the configured
  // devices starts does the host give up, so a broken deployment fails
  // visibly instead of running empty.
  for (const auto& d : devices) {
    std::string error;
    if (!host->add_device(d.spec, d.plugin_path, /*listen=*/true, error)) {
      bentos::log::error(d.spec.name, "skipped: " + error);
    }
  }
  if (!devices.empty() && host->device_count() == 0) {
    bentos::log::error("", "not starting: none of the " + std::to_string(devices.size()) +
                               " configured device(s) could start (see above)");
    close_signals();
    control.reset();
    host.reset();
    uv_run(&loop, UV_RUN_DEFAULT);  // the handles' close callbacks
    uv_loop_close(&loop);
    return 1;
  }
  // Sockets kept for devices the manifests no longer name.
  sockets.release_unclaimed();
  for (auto* d : host->devices()) {
    bentos::log::info(d->name(), "serving on " + d->endpoint_uri() + " (plugin " + d->library().name() + " " +
                                     d->library().version() + ", " +
                                     bentos::patterns::pattern_name(d->library().pattern()) + ")");
  }
  const auto skipped = skipped_devices(*host, configured);
  std::string skipped_text;
  for (const auto& name : skipped) skipped_text += (skipped_text.empty() ? "" : ", ") + name;
  bentos::log::info("", std::string("bentos-driver-host ") + BENTOS_VERSION + " ready: " +
                            std::to_string(host->device_count()) + " device(s)" +
                            (skipped.empty() ? "" : "; skipped " + std::to_string(skipped.size()) + ": " + skipped_text));
  // Every socket listens: tell systemd (Type=notify), and a script that
  // started a --dev host (flushed: stdout is a pipe there).
  notifier.ready(serving_status(*host, configured));
  if (options.dev) {
    std::error_code ec;
    const std::string cwd = std::filesystem::current_path(ec).string();
    std::printf("%s\n", bentos::config::ready_line(host->device_count(), options.control_socket, cwd).c_str());
    std::fflush(stdout);
  }
  notifier.start_watchdog(&loop);

  uv_run(&loop, UV_RUN_DEFAULT);
  host.reset();
  uv_run(&loop, UV_RUN_DEFAULT);  // let the last close callbacks run
  uv_loop_close(&loop);
  // A plugin create() or destroy() a reload left running (in flight at
  // SIGTERM, or given up on earlier) may finish within the shutdown bound;
  // the guard names it and exits if it does not.
  bentos::plugin::LifecycleJob::wait_until_none_running();
  guard.finish();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // First: a plugin that crashes the host, even while loading, names itself.
  bentos::daemon::install_crash_report();
  ::signal(SIGPIPE, SIG_IGN);  // a peer that vanishes mid-write is an error code, not a death
  bentos::daemon::keep_freed_heap_for_reuse();
  if (argc >= 2 && std::string(argv[1]) == bentos::isolation::kChildModeArgument)
    return bentos::daemon::run_isolated_child(argc, argv);
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
  if (options.dev) {
    bentos::log::warn("", "--dev: loading plugins without the ownership and permission checks "
                          "(as --allow-insecure-plugins); never use --dev for a deployment");
  }
  std::vector<ResolvedDevice> devices;
  bentos::config::HostSettings host_settings;
  const bool manifests_ok = resolve_devices(options, devices, host_settings);
  if (options.check) return run_check(options, devices, host_settings, manifests_ok);
  if (!manifests_ok) {
    bentos::log::error("", "not starting: fix the configuration above (check it with --check)");
    return kExitConfig;
  }
  if (options.dev && !create_dev_folders(options)) return 1;
  return serve(options, devices, host_settings);
}
