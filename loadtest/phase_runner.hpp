#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <unordered_map>

#include "loadtest/event_loop.hpp"
#include "loadtest/report.hpp"
#include "loadtest/rpc_fields.hpp"
#include "loadtest/scenario.hpp"
#include "loadtest/ws_connection.hpp"

namespace actorexec::loadtest {

class session_base;

/// Launches a phase's sessions within its concurrency and collects results.
class phase_runner {
public:
  using clock = std::chrono::steady_clock;

  phase_runner(const phase_spec& ph, const ws_target& target,
               std::uint64_t seed, clock::time_point t0)
      : spec(ph), target(target), rng(seed),
        mask_rng(static_cast<std::uint32_t>(seed)), cap_timer_(loop), t0_(t0) {
    check_ws_target(target.url);
    result.name = ph.name;
    result.sessions_planned = ph.sessions;
    result.max_errors = ph.max_errors;
    for (const auto& s : ph.mix)
      result.templates.push_back(s.name);
  }

  phase_result run();

  /// A session ended; starts the next one if any is left.
  void session_done(std::uint32_t index);
  void process_started() {
    result.peak_live_processes =
        std::max(++live_processes_, result.peak_live_processes);
  }
  void process_ended() { --live_processes_; }
  void connection_opened() {
    result.peak_open_connections =
        std::max(++open_connections_, result.peak_open_connections);
  }
  void connection_closed() { --open_connections_; }

  const phase_spec& spec;
  ws_target target;
  event_loop loop;
  std::mt19937_64 rng;
  /// Masking keys; apart from `rng` so that drops stay repeatable.
  std::minstd_rand mask_rng;
  /// Shared because frames are handled one at a time.
  rpc_scanner scanner;
  phase_result result;

private:
  void launch(std::uint32_t index);
  void launch_next();
  void on_cap();

  loop_timer cap_timer_;
  clock::time_point t0_;
  std::uint32_t next_ = 0;
  std::uint64_t live_processes_ = 0;
  std::uint64_t open_connections_ = 0;
  bool capped_ = false;
  std::unordered_map<std::uint32_t, std::shared_ptr<session_base>> live_;
};

/// Runs one phase against `target` on the calling thread and returns what it
/// measured. `seed` makes random drops repeatable; `t0` is the run's time
/// zero for the phase's offsets.
phase_result run_phase(const phase_spec& phase, const ws_target& target,
                       std::uint64_t seed,
                       std::chrono::steady_clock::time_point t0);

} // namespace actorexec::loadtest
