#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "loadtest/report.hpp"
#include "loadtest/scenario.hpp"

namespace actorexec::loadtest {

/// Runs one phase against `url` on a single-threaded io_context and returns
/// what it measured. `seed` makes random drops repeatable; `t0` is the
/// run's time zero for the phase's offsets. The only translation unit that
/// includes Beast.
phase_result run_phase(const phase_spec& phase, const ws_url& url,
                       std::uint64_t seed,
                       std::chrono::steady_clock::time_point t0);

/// GETs `url` over plain HTTP/1.1 on a private io_context: the whole
/// exchange ends within `timeout`. The body of a 200 goes to `body`; any
/// other outcome returns false with `error` set. Safe on any thread.
bool http_get(const ws_url& url, std::chrono::milliseconds timeout,
              std::string& body, std::string& error);

} // namespace actorexec::loadtest
