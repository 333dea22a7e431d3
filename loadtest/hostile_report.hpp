#pragma once

// What the hostile-client scenario adds to the report: the attacks and the
// server's answers per phase, the server's peaks per phase, and the
// well-behaved sessions' round trip against a baseline phase.

#include <cstdint>
#include <limits>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "loadtest/report.hpp"
#include "loadtest/stats.hpp"

namespace actorexec::loadtest {

/// The server's highest values sampled while a phase ran.
struct server_peak {
  std::uint64_t rss_kb = 0;
  std::uint64_t hwm_kb = 0;
  std::uint64_t fds = 0;
  std::size_t samples = 0;
};

/// Peaks of the samples taken from `from_s` to `to_s` (seconds of the run).
server_peak peak_of(const std::vector<server_sample>& samples,
                    double from_s = 0,
                    double to_s = std::numeric_limits<double>::infinity());

/// Peaks of the samples taken between `p`'s start and end; empty when none
/// was.
std::optional<server_peak> phase_server_peak(const run_report& r,
                                             const phase_result& p);

/// One phase's round trip of the compared template.
struct round_trip_row {
  std::string phase;
  summary round_trip;
  /// p50 and p99 over the baseline's (0 when either has no samples).
  double p50_vs_baseline = 0;
  double p99_vs_baseline = 0;
  std::optional<server_peak> server;
  /// Both percentiles within the scenario's bounds (true without bounds).
  bool within_bounds = true;
};

/// A row per phase that ran the compared template, in run order; empty
/// without `r.round_trip`.
std::vector<round_trip_row> round_trips(const run_report& r);

/// The phase's `attacks` object of the report.
boost::json::object attacks_json(const phase_result& p);
/// The run's `round_trip` object of the report.
boost::json::object round_trip_json(const run_report& r);

/// The summary's lines for a phase's attacks, and for the round trips.
void print_attacks(std::ostream& out, const phase_result& p);
void print_round_trip(std::ostream& out, const run_report& r);

} // namespace actorexec::loadtest
