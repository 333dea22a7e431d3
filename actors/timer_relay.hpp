#pragma once

#include <cstdint>

#include <caf/actor_system.hpp>
#include <caf/local_actor.hpp>
#include <caf/timespan.hpp>

#include "actors/messages.hpp"

namespace actorexec {

/// Sends `(timer_atom, kind, gen)` to `self` after `delay`, holding `self`
/// only weakly. CAF's `delayed_send` holds its receiver strongly, so an
/// actor that quit stayed in memory until its last timer fired: a process
/// started with a one-hour timeout that exits at once, a detached session's
/// linger. The delayed message goes to the system's timer relay instead (one
/// hidden actor per actor system), which forwards it only if `self` lives.
void arm_timer(caf::local_actor* self, caf::timespan delay, timer_kind kind,
               std::uint64_t gen);

/// The timer relay of `sys`, spawned on first use.
caf::actor timer_relay(caf::actor_system& sys);

/// Ends the timer relay of `sys` and returns it (null if there was none),
/// so the caller can wait for it to finish. Call before `sys` is destroyed:
/// the relay is hidden (the system does not wait for it) and held by the
/// registry and by pending timers, which the system destroys after its
/// clock; a relay still running then would reach for that clock.
caf::actor stop_timer_relay(caf::actor_system& sys);

} // namespace actorexec
