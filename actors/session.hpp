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
#include "actors/event_log.hpp"
#include "actors/messages.hpp"
#include "actors/released_history.hpp"
#include "actors/server_stats.hpp"
#include "actors/settings.hpp"
#include "protocol/encode.hpp"
#include "protocol/framer.hpp"

namespace actorexec {

/// Encoded bytes a session handed to its connection and that are not yet
/// written, and the part of them beyond the guaranteed window, borrowed from
/// the server-wide budget. The borrowed bytes go back when the window is
/// destroyed, however the session ends.
class output_window {
public:
  output_window() = default;
  output_window(const output_window&) = delete;
  output_window& operator=(const output_window&) = delete;
  ~output_window() { set(0); }

  void init(std::shared_ptr<server_stats> stats, std::int64_t guaranteed) {
    stats_ = std::move(stats);
    guaranteed_ = guaranteed;
  }
  std::int64_t in_flight() const noexcept { return in_flight_; }
  void set(std::int64_t in_flight) {
    auto delta = borrowed(in_flight) - borrowed(in_flight_);
    if (stats_ && delta != 0)
      stats_->borrowed_window_bytes += delta;
    in_flight_ = in_flight;
  }

private:
  std::int64_t borrowed(std::int64_t n) const noexcept {
    return n > guaranteed_ ? n - guaranteed_ : 0;
  }
  std::shared_ptr<server_stats> stats_;
  std::int64_t guaranteed_ = 0;
  std::int64_t in_flight_ = 0;
};

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
  /// pid/pgid and policy of the current or last process.
  std::int64_t pid = 0;
  protocol::overflow_policy policy = protocol::overflow_policy::block;
  std::string process_state = "none";
  bool paused = false;
  std::string started_at;
  std::shared_ptr<const protocol::completion> last_completion;
  std::uint64_t stream_bytes[2] = {0, 0};
  std::uint64_t dropped_bytes = 0;
  /// The event log: [sent | not yet sent], with the send and written
  /// cursors of the current connection.
  event_log events;
  /// Written bytes not yet matched to a whole event.
  std::uint64_t written_carry = 0;
  /// Bytes of written events still retained (the implicit replay window).
  std::uint64_t written_window = 0;
  /// Raw output bytes retained.
  std::uint64_t buffered_bytes = 0;
  /// Encoded bytes handed to the connection and not yet written.
  output_window window;
  /// Credit granted to the process and not yet used.
  std::uint64_t proc_outstanding = 0;
  /// Last `seq` assigned, and the highest the client acknowledged.
  std::uint64_t last_seq = 0;
  std::uint64_t acked_seq = 0;
  /// The client acknowledges explicitly: written events wait for its ack.
  bool explicit_ack = false;
  /// `detach` was requested: the coming close detaches instead of ending.
  bool detach_requested = false;
  /// Guards the linger timer against stale firings.
  std::uint64_t linger_gen = 0;
  /// Child output bytes produced so far (the running `cum_raw`).
  std::uint64_t cum_raw = 0;
  /// Output events produced so far (with `cum_raw`, the mean event size
  /// that turns the frame bound into bytes of credit).
  std::uint64_t cum_events = 0;
  /// The latest events released without the client's ack.
  released_history released;
  /// Child output through the last event removed from the log (released
  /// or acknowledged): what a resume from before the log missed ends here.
  std::uint64_t popped_through = 0;
  /// The server drains: end once the process is done.
  bool draining = false;
  /// When the current `execute` arrived (spawn latency).
  caf::actor_clock::time_point execute_at;
  /// Since when a full buffer withholds credit (`block`), and the total.
  std::optional<caf::actor_clock::time_point> blocked_since;
  std::uint64_t blocked_ns = 0;

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
