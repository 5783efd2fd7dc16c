// Process-wide logging: one line per event, to stderr (journald adds the
// timestamp under systemd) or to a sink installed by tests.
//
// Thread-safe: any thread may log; lines never interleave.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace bentos::log {

enum class Level { error = 0, warn = 1, info = 2, debug = 3 };

// Parses "error", "warn", "info", "debug"; false for anything else.
bool parse_level(std::string_view text, Level& out);
const char* level_name(Level level);

void set_level(Level level);
Level level();
bool enabled(Level level);

// Replaces the output (tests capture lines); an empty function restores stderr.
using Sink = std::function<void(Level, const std::string& line)>;
void set_sink(Sink sink);

// True when stderr goes to journald (JOURNAL_STREAM is set): each line
// then starts with its syslog priority, "<3>" for an error.
bool to_journal();

// `where` names the subject (a device, a connection, a file); may be empty.
void write(Level level, std::string_view where, std::string_view message);

inline void error(std::string_view where, std::string_view msg) { write(Level::error, where, msg); }
inline void warn(std::string_view where, std::string_view msg) { write(Level::warn, where, msg); }
inline void info(std::string_view where, std::string_view msg) { write(Level::info, where, msg); }
inline void debug(std::string_view where, std::string_view msg) {
  if (enabled(Level::debug)) write(Level::debug, where, msg);
}

}  // namespace bentos::log
