#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include <caf/actor.hpp>
#include <caf/actor_clock.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/child_io.hpp"
#include "actors/event_flow.hpp"
#include "actors/messages.hpp"
#include "actors/server_stats.hpp"
#include "actors/settings.hpp"
#include "protocol/encode.hpp"
#include "protocol/framer.hpp"

namespace actorexec {

/// The session lifecycle (spec section 3):
///
///              connect
///                 |
///                 v
///   +------> [attached] ----- clean Close, detach expiry ----+
///   |             |                                          |
///   | resume      | connection lost (no Close) or `detach`   |
///   |             v                                          v
///   +------- [detached] --- session_linger_ms ---------> [expired]
///                                                  (process group ended,
///                                                   actor quits)
enum class session_phase { attached, detached, expired };

/// Returns "attached", "detached" or "expired".
const char* to_string(session_phase phase);

/// State of one session actor.
struct session_state {
  std::string id;
  std::shared_ptr<const settings> cfg;
  std::shared_ptr<server_stats> stats;
  /// Starts children (real ones, or fakes in tests).
  child_spawner spawner;
  session_phase phase = session_phase::attached;
  /// The connection we are bound to (null while detached).
  caf::actor conn;
  /// The running process (null when none).
  caf::actor proc;
  /// `id` of the `execute` waiting for its response.
  protocol::request_id pending_execute;
  /// Its unknown params, named in the response.
  std::vector<std::string> pending_unknown;
  /// An `execute` waits for `started` or `failed`.
  bool awaiting_start = false;
  /// pid/pgid of the current or last process, and what `status` says of it.
  std::int64_t pid = 0;
  protocol::process_phase proc_phase = protocol::process_phase::none;
  bool paused = false;
  std::string started_at;
  std::shared_ptr<const protocol::completion> last_completion;
  std::uint64_t stream_bytes[2] = {0, 0};
  /// The events on their way to the client: retention, windows, credit.
  std::optional<event_flow> flow;
  /// `detach` was requested: the coming close detaches instead of ending.
  bool detach_requested = false;
  /// Guards the linger timer against stale firings.
  std::uint64_t linger_gen = 0;
  /// The server drains: end once the process is done.
  bool draining = false;
  /// When the current `execute` arrived (spawn latency).
  caf::actor_clock::time_point execute_at;

  static inline const char* name = "session";
};

using session_actor_type = caf::stateful_actor<session_state>;

/// One session: the state machine above, the process it runs, the `seq`
/// counter, the bounded retention buffer with its overflow policy, and the
/// binding to at most one connection.
caf::behavior session_actor(session_actor_type* self, std::string id,
                            caf::actor conn, child_spawner spawner,
                            std::shared_ptr<const settings> cfg,
                            std::shared_ptr<server_stats> stats);

} // namespace actorexec
