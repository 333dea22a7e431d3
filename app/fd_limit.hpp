#pragma once

#include <cstdint>
#include <optional>

#include "app/config.hpp"

namespace actorexec::app {

/// Descriptors a running child costs the server: its stdin, stdout and
/// stderr pipes (our ends) and its pidfd.
constexpr std::uint64_t fds_per_child = 4;

/// The server's own descriptors besides connections and children (about a
/// dozen: stdio, epoll, eventfds, timerfds, CAF's pipe, the listener) and
/// room for short-lived ones: a spawn's other pipe ends, /proc reads for
/// /metrics, a connection accepted only to be closed at a limit.
constexpr std::uint64_t fd_margin = 64;

/// Descriptors the server may hold with every limit reached:
/// `max_connections + max_http_connections + fds_per_child x max_sessions +
/// fd_margin` (1720 with the defaults). Nothing when a connection limit is
/// off (0), since then no number is enough (nor when the sum overflows).
std::optional<std::uint64_t> fd_need(const config& cfg);

/// Raises the soft RLIMIT_NOFILE to `fd_need` (to the hard limit when the
/// need is unbounded) when it is below, never above the hard limit, and
/// warns naming the numbers when even the hard limit is below the need.
/// Out of descriptors, accept() fails and new clients wait in the backlog.
void ensure_fd_limit(const config& cfg);

} // namespace actorexec::app
