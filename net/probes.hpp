#pragma once

#include <cstddef>
#include <string_view>

#include <boost/json/object.hpp>

#include "actors/server_stats.hpp"

namespace actorexec::net {

/// What readiness depends on besides the counters.
struct readiness_limits {
  /// The session limit (MAX_SESSIONS).
  std::size_t max_sessions = 100;
  /// True when `--max-connections` WebSockets are open.
  bool connections_full = false;
};

/// Why the server would refuse a new client right now ("draining",
/// "session_limit", "connection_limit"), or an empty view when it is ready.
/// /readyz answers 503 with this reason, 200 without one.
std::string_view not_ready_reason(const server_stats& stats,
                                  const readiness_limits& limits);

/// The body of `GET /health` (spec section 9).
boost::json::object health(const server_stats& stats, std::size_t max_sessions);

} // namespace actorexec::net
