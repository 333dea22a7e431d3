#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace actorexec {

/// Counters shared by actors and the HTTP side. Atomics, so that /health and
/// /metrics read them from I/O threads without asking an actor.
struct server_stats {
  std::atomic<std::int64_t> active_sessions{0};
  std::atomic<std::int64_t> detached_sessions{0};
  std::atomic<std::int64_t> active_connections{0};
  std::atomic<std::int64_t> running_processes{0};
  std::atomic<std::uint64_t> connections_total{0};
  std::atomic<std::uint64_t> sessions_total{0};
  std::atomic<std::uint64_t> processes_total{0};
  std::atomic<std::uint64_t> spawn_failures_total{0};
  std::atomic<std::uint64_t> stdout_bytes_total{0};
  std::atomic<std::uint64_t> stderr_bytes_total{0};
  std::atomic<std::uint64_t> output_frames_total{0};
  std::atomic<std::uint64_t> dropped_bytes_total{0};
  std::atomic<std::uint64_t> resumes_total{0};
  std::atomic<bool> draining{false};
  /// When the server started.
  std::chrono::steady_clock::time_point started
    = std::chrono::steady_clock::now();
};

} // namespace actorexec
