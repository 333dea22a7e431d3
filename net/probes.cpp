#include "net/probes.hpp"

#include <chrono>

namespace actorexec::net {

using namespace std::chrono;

std::string_view not_ready_reason(const server_stats& stats,
                                  const readiness_limits& limits) {
  if (stats.draining.load())
    return "draining";
  // Detached sessions count: they hold their place until they expire.
  if (stats.active_sessions.load() >=
      static_cast<std::int64_t>(limits.max_sessions))
    return "session_limit";
  if (limits.connections_full)
    return "connection_limit";
  return {};
}

boost::json::object health(const server_stats& s, std::size_t max_sessions) {
  auto up = duration_cast<duration<double>>(steady_clock::now() - s.started);
  return {{"status", "healthy"},
          {"service", "actorexec"},
          {"version", ACTOREXEC_VERSION},
          {"active_sessions", s.active_sessions.load()},
          {"detached_sessions", s.detached_sessions.load()},
          {"active_connections", s.active_connections.load()},
          {"running_processes", s.running_processes.load()},
          {"max_sessions", max_sessions},
          {"uptime_seconds", up.count()}};
}

} // namespace actorexec::net
