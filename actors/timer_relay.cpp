#include "actors/timer_relay.hpp"

#include <mutex>

#include <caf/actor_cast.hpp>
#include <caf/actor_registry.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/spawn_options.hpp>

namespace actorexec {

namespace {

/// Forwards a timer to its actor if that actor still exists. `key` is
/// unused: CAF 0.17 binds a null `shared_ptr<tuple<>>` by reference when an
/// actor function is spawned without arguments, which UBSan reports (see
/// tests/sanitizers/ubsan.supp), so every spawn passes at least one.
caf::behavior relay(caf::event_based_actor*, caf::atom_value /*key*/) {
  return {
      [](relay_atom, const caf::actor_addr& target, timer_kind kind,
         std::uint64_t gen) {
        if (auto alive = caf::actor_cast<caf::actor>(target))
          caf::anon_send(alive, timer_atom::value, kind, gen);
      },
  };
}

/// Registered under a name so that every actor of a system finds the same
/// relay; hidden, so that it never holds up the system's shutdown.
constexpr auto relay_key = caf::atom("timerrelay");

/// Guards the lookup and the first spawn.
std::mutex relay_mutex;

} // namespace

caf::actor timer_relay(caf::actor_system& sys) {
  std::lock_guard<std::mutex> guard{relay_mutex};
  if (auto existing = sys.registry().get<caf::actor>(relay_key))
    return existing;
  auto fresh = sys.spawn<caf::hidden>(relay, relay_key);
  sys.registry().put(relay_key, fresh);
  return fresh;
}

caf::actor stop_timer_relay(caf::actor_system& sys) {
  std::lock_guard<std::mutex> guard{relay_mutex};
  auto relay = sys.registry().get<caf::actor>(relay_key);
  if (relay) {
    sys.registry().erase(relay_key);
    caf::anon_send_exit(relay, caf::exit_reason::user_shutdown);
  }
  return relay;
}

void arm_timer(caf::local_actor* self, caf::timespan delay, timer_kind kind,
               std::uint64_t gen) {
  caf::delayed_anon_send(timer_relay(self->home_system()), delay,
                         relay_atom::value, self->address(), kind, gen);
}

} // namespace actorexec
