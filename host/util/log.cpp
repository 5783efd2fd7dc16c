#include "util/log.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace bentos::log {

namespace {
std::atomic<int> g_level{static_cast<int>(Level::info)};
std::mutex g_mutex;  // guards g_sink and serialises stderr lines
Sink g_sink;

const char* syslog_prefix(Level level) {
  switch (level) {
    case Level::error: return "<3>";
    case Level::warn: return "<4>";
    case Level::info: return "<6>";
    case Level::debug: return "<7>";
  }
  return "<6>";
}
}  // namespace

bool parse_level(std::string_view text, Level& out) {
  if (text == "error") out = Level::error;
  else if (text == "warn" || text == "warning") out = Level::warn;
  else if (text == "info") out = Level::info;
  else if (text == "debug") out = Level::debug;
  else return false;
  return true;
}

const char* level_name(Level level) {
  switch (level) {
    case Level::error: return "error";
    case Level::warn: return "warn";
    case Level::info: return "info";
    case Level::debug: return "debug";
  }
  return "?";
}

// Under systemd, stderr goes to journald, which sets JOURNAL_STREAM; a
// leading "<N>" (sd-daemon.h's SD_ERR .. SD_DEBUG) then sets each line's
// syslog priority instead of the unit's default.
bool to_journal() {
  static const bool set = [] {
    const char* v = std::getenv("JOURNAL_STREAM");
    return v != nullptr && *v != '\0';
  }();
  return set;
}

void set_level(Level level) { g_level.store(static_cast<int>(level)); }
Level level() { return static_cast<Level>(g_level.load()); }
bool enabled(Level level) { return static_cast<int>(level) <= g_level.load(); }

void set_sink(Sink sink) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_sink = std::move(sink);
}

void write(Level level, std::string_view where, std::string_view message) {
  if (!enabled(level)) return;
  std::string line;
  line.reserve(where.size() + message.size() + 20);
  line += level_name(level);
  line += ": ";
  if (!where.empty()) {
    line += where;
    line += ": ";
  }
  line += message;
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_sink) {
    g_sink(level, line);
    return;
  }
  line += '\n';
  if (to_journal()) line.insert(0, syslog_prefix(level));
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace bentos::log
