#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "actors/server_stats.hpp"

namespace actorexec::net {

/// The standard `process_*` metrics, read from /proc/self.
struct process_sample {
  double resident_memory_bytes = 0;
  double virtual_memory_bytes = 0;
  double cpu_seconds = 0;
  /// Seconds since the Unix epoch.
  double start_time_seconds = 0;
  double open_fds = 0;
  double max_fds = 0;
};

/// Reads /proc/self/stat, /proc/stat and /proc/self/fd; nothing when /proc
/// is not mounted (the process_* metrics are then left out).
std::optional<process_sample> sample_process();

/// Settings shown as gauges next to the counters.
struct metrics_limits {
  std::size_t max_sessions = 0;
  /// 0: unlimited (then not shown).
  std::size_t max_connections = 0;
};

/// Renders every metric in the Prometheus text format, version 0.0.4.
std::string render_metrics(const server_stats& stats,
                           const metrics_limits& limits,
                           const std::optional<process_sample>& proc);

/// The Content-Type of render_metrics' output.
constexpr const char* metrics_content_type =
    "text/plain; version=0.0.4; charset=utf-8";

} // namespace actorexec::net
