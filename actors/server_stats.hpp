#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "protocol/status.hpp"

namespace actorexec {

/// A histogram with fixed bucket bounds, lock-free: one atomic per bucket,
/// so actors observe and the HTTP side reads without asking anyone.
class latency_histogram {
public:
  /// Upper bounds in seconds (Prometheus `le`), ascending; +Inf is implicit.
  static constexpr std::array<double, 12> bounds{
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};

  /// Records one observation.
  void observe(std::chrono::nanoseconds d) {
    auto ns = d.count() < 0 ? 0 : static_cast<std::uint64_t>(d.count());
    auto secs = static_cast<double>(ns) / 1e9;
    std::size_t i = 0;
    while (i < bounds.size() && secs > bounds[i])
      ++i;
    ++buckets_[i];
    sum_ns_ += ns;
  }

  /// Observations in bucket `i` alone (not cumulative); `bounds.size()` is
  /// the +Inf bucket.
  std::uint64_t bucket(std::size_t i) const { return buckets_[i].load(); }

  /// Sum of all observations, in nanoseconds.
  std::uint64_t sum_ns() const { return sum_ns_.load(); }

private:
  std::array<std::atomic<std::uint64_t>, bounds.size() + 1> buckets_{};
  std::atomic<std::uint64_t> sum_ns_{0};
};

/// Counters shared by actors and the HTTP side. Atomics, so that /health and
/// /metrics read them from I/O threads without asking an actor.
struct server_stats {
  /// JSON-RPC error codes counted one by one (spec section 8, plus the rate
  /// limit and stdin busy); every other code lands in the last slot.
  static constexpr std::array<int, 13> rpc_error_codes{
      -32700, -32600, -32601, -32602, -32603, -32001, -32002,
      -32003, -32005, -32006, -32010, -32011, -32029};

  /// WebSocket close codes counted one by one; others land in the last slot.
  static constexpr std::array<std::uint16_t, 10> close_codes{
      1000, 1001, 1002, 1003, 1006, 1007, 1008, 1009, 1011, 4001};

  /// Why an upgrade (or a guarded HTTP request) was refused before any
  /// WebSocket opened.
  enum class rejection : std::size_t {
    unauthorized,     // 401
    origin,           // 403
    connection_limit, // 503, --max-connections(-per-ip)
    /// Closed at accept, before any request: --max-http-connections.
    http_connection_limit,
    count_
  };

  /// Sessions alive, attached or detached (attached = active - detached).
  std::atomic<std::int64_t> active_sessions{0};
  /// Sessions alive without a connection, waiting for a resume.
  std::atomic<std::int64_t> detached_sessions{0};
  /// Output bytes queued toward sockets beyond the sessions' guaranteed
  /// windows (what `window_budget_bytes` bounds).
  std::atomic<std::int64_t> borrowed_window_bytes{0};
  /// Connection actors alive (one per open WebSocket).
  std::atomic<std::int64_t> active_connections{0};
  /// Children spawned and not yet reaped.
  std::atomic<std::int64_t> running_processes{0};
  /// Children currently stopped by PAUSE (subset of running_processes).
  std::atomic<std::int64_t> paused_processes{0};
  std::atomic<std::uint64_t> connections_total{0};
  std::atomic<std::uint64_t> sessions_total{0};
  /// Detached sessions that nobody resumed within the linger time.
  std::atomic<std::uint64_t> sessions_expired_total{0};
  std::atomic<std::uint64_t> processes_total{0};
  std::atomic<std::uint64_t> spawn_failures_total{0};
  /// Ended processes by how they ended; index with `protocol::end_status`.
  std::array<std::atomic<std::uint64_t>, protocol::end_status_count>
      processes_completed_total{};
  std::atomic<std::uint64_t> stdout_bytes_total{0};
  std::atomic<std::uint64_t> stderr_bytes_total{0};
  /// Output frames (process.output) of both streams together.
  std::atomic<std::uint64_t> output_frames_total{0};
  /// The stderr share of output_frames_total; stdout is the rest.
  std::atomic<std::uint64_t> stderr_frames_total{0};
  std::atomic<std::uint64_t> dropped_bytes_total{0};
  /// Output frames dropped under on_overflow "drop_oldest".
  std::atomic<std::uint64_t> dropped_frames_total{0};
  /// Time producers spent stopped by backpressure (a pipe not read because
  /// the session buffer was full), summed over processes, in nanoseconds.
  std::atomic<std::uint64_t> backpressure_blocked_ns_total{0};
  std::atomic<std::uint64_t> resumes_total{0};
  /// accept() calls that failed (EMFILE and the like); each backs off.
  std::atomic<std::uint64_t> accept_failures_total{0};
  /// Connections dropped because nothing arrived within the heartbeat
  /// timeout.
  std::atomic<std::uint64_t> heartbeat_timeouts_total{0};
  /// Error responses sent, by code; index with rpc_error_index().
  std::array<std::atomic<std::uint64_t>, rpc_error_codes.size() + 1>
      rpc_errors_total{};
  /// Ended WebSockets by close code (the server's code when it closed, the
  /// client's when it did, 1006 when nobody sent a Close frame).
  std::array<std::atomic<std::uint64_t>, close_codes.size() + 1>
      ws_closes_total{};
  /// Requests refused before any WebSocket opened.
  std::array<std::atomic<std::uint64_t>,
             static_cast<std::size_t>(rejection::count_)>
      rejected_total{};
  /// From an `execute` request's arrival to a successful spawn.
  latency_histogram spawn_latency;
  std::atomic<bool> draining{false};
  /// When the server started.
  std::chrono::steady_clock::time_point started =
      std::chrono::steady_clock::now();

  /// The slot of rpc_errors_total for `code`.
  static constexpr std::size_t rpc_error_index(int code) {
    std::size_t i = 0;
    while (i < rpc_error_codes.size() && rpc_error_codes[i] != code)
      ++i;
    return i;
  }

  /// The slot of ws_closes_total for `code`.
  static constexpr std::size_t close_index(std::uint16_t code) {
    std::size_t i = 0;
    while (i < close_codes.size() && close_codes[i] != code)
      ++i;
    return i;
  }

  /// Counts one JSON-RPC error response.
  void count_rpc_error(int code) { ++rpc_errors_total[rpc_error_index(code)]; }

  /// Counts one ended WebSocket.
  void count_close(std::uint16_t code) { ++ws_closes_total[close_index(code)]; }

  /// Counts one process end.
  void count_completion(protocol::end_status c) {
    ++processes_completed_total[static_cast<std::size_t>(c)];
  }

  /// Counts one refused request.
  void count_rejection(rejection r) {
    ++rejected_total[static_cast<std::size_t>(r)];
  }
};

} // namespace actorexec
