#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

namespace actorexec::log {

/// Severity, lowest first.
enum class level { debug, info, warn, error };

/// Sets the lowest level written; parses "debug", "info", "warn(ing)",
/// "error" (case-insensitive). Returns false for an unknown name.
bool set_level(std::string_view name);

/// True when `lvl` would be written.
bool enabled(level lvl);

/// Writes one JSON object on one line to stderr: {"time","level","event",
/// ...fields}. Thread-safe; a line is never interleaved with another.
void write(level lvl, std::string_view event, boost::json::object fields = {});

/// Writes a line at level info whatever the lowest level set: the server's
/// lifecycle (listening, with the port chosen for --port 0; shutdown;
/// stopped), which an operator needs even with --log-level warn.
void lifecycle(std::string_view event, boost::json::object fields = {});

/// Now as RFC 3339 UTC to the second, e.g. 2026-12-01T10:00:00Z: the
/// `started_at` of status replies (log lines carry milliseconds).
std::string utc_seconds();

inline void debug(std::string_view ev, boost::json::object f = {}) {
  if (enabled(level::debug))
    write(level::debug, ev, std::move(f));
}
inline void info(std::string_view ev, boost::json::object f = {}) {
  if (enabled(level::info))
    write(level::info, ev, std::move(f));
}
inline void warn(std::string_view ev, boost::json::object f = {}) {
  write(level::warn, ev, std::move(f));
}
inline void error(std::string_view ev, boost::json::object f = {}) {
  write(level::error, ev, std::move(f));
}

} // namespace actorexec::log
