// The phases: a phase's sessions started within its concurrency and its
// ramp-up, cut off at its duration cap, all on one event loop on the calling
// thread, so the runner costs one core at most and its CPU time is easy to
// attribute.

#include "loadtest/phase_runner.hpp"

#include <sys/resource.h>

#include "loadtest/attack_session.hpp"
#include "loadtest/session_task.hpp"

namespace actorexec::loadtest {

namespace {

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto tv = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return tv(ru.ru_utime) + tv(ru.ru_stime);
}

} // namespace

std::shared_ptr<session_base>
make_session(phase_runner& ph, const session_spec& spec, std::uint32_t index) {
  if (spec.attack.what != attack_spec::kind::none)
    return std::make_shared<attack_session>(ph, spec, index);
  return std::make_shared<session_task>(ph, spec, index);
}

void phase_runner::launch(std::uint32_t index) {
  if (capped_)
    return;
  const auto& tmpl = pick_template(spec, index);
  auto task = make_session(*this, tmpl, index);
  live_.emplace(index, task);
  task->start();
}

void phase_runner::launch_next() {
  if (next_ < spec.sessions)
    launch(next_++);
}

void phase_runner::session_done(std::uint32_t index) {
  // Destroyed later: the caller is still running inside the task.
  auto it = live_.find(index);
  if (it != live_.end()) {
    loop.post([task = it->second] {});
    live_.erase(it);
  }
  launch_next();
  if (live_.empty() && next_ >= spec.sessions)
    cap_timer_.cancel();
}

void phase_runner::on_cap() {
  capped_ = true;
  // Sessions never started count as failed, so the counts add up.
  if (next_ < spec.sessions) {
    result.sessions_failed += spec.sessions - next_;
    result.other_errors["not started before duration cap"] +=
        spec.sessions - next_;
    next_ = spec.sessions;
  }
  auto tasks = live_;
  for (auto& [index, task] : tasks)
    task->abort("cut off by duration cap");
}

phase_result phase_runner::run() {
  auto start = clock::now();
  auto cpu0 = cpu_seconds();
  cap_timer_.start(std::chrono::milliseconds(spec.duration_cap_ms),
                   [this] { on_cap(); });
  auto first = std::min(spec.concurrency, spec.sessions);
  std::vector<std::unique_ptr<loop_timer>> ramp;
  for (std::uint32_t i = 0; i < first; ++i) {
    auto at = std::chrono::milliseconds(
        static_cast<std::uint64_t>(spec.ramp_up_ms) * i / first);
    if (at.count() == 0) {
      launch_next();
      continue;
    }
    auto& t = ramp.emplace_back(std::make_unique<loop_timer>(loop));
    t->start(at, [this] { launch_next(); });
  }
  loop.run();
  auto end = clock::now();
  result.wall_s = std::chrono::duration<double>(end - start).count();
  result.start_s = std::chrono::duration<double>(start - t0_).count();
  result.end_s = std::chrono::duration<double>(end - t0_).count();
  result.client_cpu_s = cpu_seconds() - cpu0;
  return result;
}

phase_result run_phase(const phase_spec& phase, const ws_target& target,
                       std::uint64_t seed, phase_runner::clock::time_point t0) {
  phase_runner runner{phase, target, seed, t0};
  return runner.run();
}

} // namespace actorexec::loadtest
