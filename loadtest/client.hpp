#pragma once

#include <chrono>
#include <cstdint>

#include "loadtest/report.hpp"
#include "loadtest/scenario.hpp"

namespace actorexec::loadtest {

/// Runs one phase against `url` on a single-threaded io_context and returns
/// what it measured. `seed` makes random drops repeatable; `t0` is the
/// run's time zero for the phase's offsets.
phase_result run_phase(const phase_spec& phase, const ws_url& url,
                       std::uint64_t seed,
                       std::chrono::steady_clock::time_point t0);

} // namespace actorexec::loadtest
