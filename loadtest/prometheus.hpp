#pragma once

#include <string>
#include <string_view>

#include "loadtest/report.hpp"

namespace actorexec::loadtest {

/// Reads the server's own process metrics from a Prometheus text exposition
/// (format 0.0.4, what actorexec serves on /metrics):
/// `process_resident_memory_bytes`, `process_open_fds` and
/// `process_cpu_seconds_total`, each without labels. Every sample line is
/// checked for shape, so a truncated or foreign body is not mistaken for a
/// server with no memory. Fills `out` (t_s and hwm_kb untouched) and returns
/// true, or returns false with `error` naming the line or the missing metric.
bool parse_process_metrics(std::string_view text, server_sample& out,
                           std::string& error);

} // namespace actorexec::loadtest
