// The process actor's time limits: the wall clock and the idle timer,
// stopped while the child is paused (see process_parts.hpp).

#include <chrono>

#include <caf/all.hpp>

#include "actors/process_parts.hpp"
#include "actors/timer_relay.hpp"

namespace actorexec::process_parts {

using namespace std::chrono;

namespace {

caf::timespan seconds_to_span(double s) {
  return duration_cast<caf::timespan>(duration<double>{s});
}

/// An open stream has no read outstanding for lack of credit.
bool blocked_by_backpressure(const process_state& st) {
  for (int i = 0; i < 2; ++i)
    if (!st.eof[i] && st.reading[i] == 0)
      return true;
  return false;
}

} // namespace

void arm(process_actor_type* self, timer_kind kind, caf::timespan after) {
  arm_timer(self, after, kind, self->state.timer_gen);
}

void on_timer(process_actor_type* self, timer_kind kind, std::uint64_t gen) {
  auto& st = self->state;
  auto now = self->clock().now();
  switch (kind) {
  case timer_kind::kill:
    kill_group(self);
    return;
  case timer_kind::force_close:
    st.io->close_pipes();
    return;
  default:
    break;
  }
  if (gen != st.timer_gen || st.paused || st.terminating)
    return;
  if (kind == timer_kind::wall) {
    start_termination(self, protocol::end_status::timed_out,
                      milliseconds{st.cfg->cancel_grace_ms});
  } else if (kind == timer_kind::idle) {
    if (blocked_by_backpressure(st)) {
      // We are the ones not reading: the child may be writing all along.
      st.idle_deadline = now + *st.idle_limit;
      arm(self, timer_kind::idle, *st.idle_limit);
    } else if (now < st.idle_deadline) // output came since: wait
      arm(self, timer_kind::idle, st.idle_deadline - now);
    else
      start_termination(self, protocol::end_status::timed_out,
                        milliseconds{st.cfg->cancel_grace_ms});
  }
}

void pause_clocks(process_actor_type* self) {
  auto& st = self->state;
  auto now = self->clock().now();
  ++st.timer_gen;
  if (st.wall_limit)
    st.wall_left = st.wall_deadline - now;
  if (st.idle_limit)
    st.idle_left = st.idle_deadline - now;
}

void resume_clocks(process_actor_type* self) {
  auto& st = self->state;
  auto now = self->clock().now();
  ++st.timer_gen;
  if (st.wall_limit) {
    st.wall_deadline = now + st.wall_left;
    arm(self, timer_kind::wall, st.wall_left);
  }
  if (st.idle_limit) {
    st.idle_deadline = now + st.idle_left;
    arm(self, timer_kind::idle, st.idle_left);
  }
}

void start_clocks(process_actor_type* self, const protocol::execute_params& p) {
  auto& st = self->state;
  auto now = self->clock().now();
  st.started_at = now;
  if (p.timeout) {
    st.wall_limit = seconds_to_span(*p.timeout);
    st.wall_deadline = now + *st.wall_limit;
    arm(self, timer_kind::wall, *st.wall_limit);
  }
  if (p.idle_timeout) {
    st.idle_limit = seconds_to_span(*p.idle_timeout);
    st.idle_deadline = now + *st.idle_limit;
    arm(self, timer_kind::idle, *st.idle_limit);
  }
}

} // namespace actorexec::process_parts
