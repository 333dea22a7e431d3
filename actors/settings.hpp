#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <sys/types.h>

#include "actors/run_as.hpp"
#include "protocol/allow_list.hpp"
#include "protocol/env_policy.hpp"
#include "protocol/limits.hpp"

namespace actorexec {

/// Runtime settings shared (read-only) by every actor. Defaults are the
/// protocol's (spec section 11); app/ fills them from flags and environment.
struct settings {
  /// Shell for `command` requests: bash, zsh or sh.
  std::string shell = "bash";
  /// ALLOWED_COMMANDS; empty allows everything.
  protocol::allow_list allowed;
  /// `--allowed-env`: the names a request's `env` may set while `allowed`
  /// is not empty (fixed refusals apply regardless); empty: any other name.
  protocol::env_policy allowed_env;
  /// Most sessions alive at once.
  std::size_t max_sessions = 100;
  /// WebSocket ping period.
  std::uint64_t heartbeat_interval_ms = 20000;
  /// Silence after which a peer is dead.
  std::uint64_t heartbeat_timeout_ms = 40000;
  /// Period of the JSON `ping` notification, in milliseconds (0: off).
  std::uint64_t json_ping_interval_ms = 30000;
  /// Lifetime of a detached session.
  std::uint64_t session_linger_ms = 60000;
  /// SIGTERM-to-SIGKILL grace of CANCEL and timeouts.
  std::uint64_t cancel_grace_ms = 10000;
  /// SIGTERM-to-SIGKILL grace when a client closes cleanly.
  std::uint64_t close_grace_ms = 2000;
  /// Grace of running processes when the server drains.
  std::uint64_t shutdown_grace_ms = 10000;
  /// Unacknowledged output a session retains, in bytes and frames.
  std::size_t max_buffer_bytes = 1 << 20;
  std::size_t max_buffer_frames = 1000;
  /// Written output kept for replay when the client never acks.
  std::size_t replay_window_bytes = 256 * 1024;
  /// Bytes of events a session may have queued toward its socket: the
  /// first `guaranteed_window_bytes` always, the rest while the server-wide
  /// `window_budget_bytes` lasts (output waits in the pipes, not in memory,
  /// when many sessions outrun their clients).
  std::size_t connection_window_bytes = 256 * 1024;
  std::size_t guaranteed_window_bytes = 12 * 1024;
  std::size_t window_budget_bytes = 256 * 1024;
  /// Largest pipe read.
  std::size_t read_chunk_bytes = 64 * 1024;
  /// Largest pipe read in `chunks` framing, whose pipes are larger.
  std::size_t chunks_read_bytes = 256 * 1024;
  /// Bytes of `input` a process accepts but has not yet written to its
  /// child's stdin (-32006 beyond; 0: no limit). Each request counts at
  /// least 1 KiB, and one is always accepted when none waits.
  std::size_t max_pending_input_bytes = 2 * 1024 * 1024;
  /// Environment variables never passed to children.
  std::vector<std::string> scrub_env;
  /// Accept `argv` only: `command` (a shell) is refused.
  bool no_shell = false;
  /// Refuse a request with a param its method does not know (-32602)
  /// instead of ignoring it with a warning.
  bool strict_params = false;
  /// Processes one MCP session may run at once.
  std::size_t mcp_max_processes = 16;
  /// Longest lifetime of an MCP task (a client's `ttl` is capped to it);
  /// after it the task, its output and its process are gone.
  std::uint64_t mcp_task_max_ttl_ms = 3600000;
  /// Resource limits of every child: (RLIMIT_* resource, soft = hard).
  std::vector<std::pair<int, std::uint64_t>> rlimits;
  /// Children run as this user (the server runs as root); empty: as the
  /// server.
  std::shared_ptr<const run_as_user> run_as;
  /// Size limits of `execute` and `input` params (-32602 beyond).
  protocol::request_limits limits;
  /// Requests per second a connection may send on average (token bucket
  /// refill rate; 0: no limit), and the bucket's size (the burst).
  std::uint64_t rate_limit_rps = 100;
  std::uint64_t rate_limit_burst = 200;
  /// Bytes of responses and errors a connection may have queued toward a
  /// client that does not read them; beyond it the connection handles no
  /// further frame of that client (and so, through the read window, the
  /// socket stops reading it) until the queue has drained.
  std::size_t max_reply_backlog_bytes = 1 << 20;
};

} // namespace actorexec
