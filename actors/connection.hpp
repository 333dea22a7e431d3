#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/messages.hpp"
#include "actors/outbox.hpp"
#include "actors/server_stats.hpp"
#include "actors/settings.hpp"
#include "actors/token_bucket.hpp"

namespace actorexec {

/// State of one connection actor.
struct connection_state {
  /// Our number, for logs.
  std::uint64_t id = 0;
  caf::actor supervisor;
  /// The door to the socket.
  outbox_ptr out;
  std::shared_ptr<const settings> cfg;
  std::shared_ptr<server_stats> stats;
  /// The session we serve, and its id (for logs).
  caf::actor session;
  std::string session_id;
  /// Frame bytes handed to the socket and not yet written, in runs of
  /// frames that the session counts against its credit, or not (one entry
  /// per run, not per frame: a slow client's socket holds hundreds).
  std::deque<std::pair<std::uint64_t, bool>> in_flight;
  /// Bytes of `in_flight` that the session does not count (responses,
  /// errors, pings): the reply backlog.
  std::uint64_t uncredited_in_flight = 0;
  /// Client frames read while the reply backlog was over its bound, to be
  /// handled in order once it drains. Bounded by the socket's read window:
  /// their charge is returned only once they are handled.
  std::deque<std::string> deferred;
  /// A `resume` awaits the supervisor and the session: deferred frames
  /// wait for it too, so requests keep their order.
  bool resuming = false;
  /// We asked the socket to close; nothing more is sent.
  bool closing = false;
  /// The request rate limit of this connection, on the actor's clock.
  token_bucket bucket;
  /// Requests refused since the last one the limit let through (the first
  /// of a run is logged at info, the rest at debug).
  std::uint64_t rate_refused = 0;

  static inline const char* name = "connection";
};

using connection_actor_type = caf::stateful_actor<connection_state>;

/// One WebSocket: decodes client frames with protocol/, applies the request
/// rate limit and the size limits, answers what needs no session (ping,
/// pong, hook_status, errors), routes the rest to its session, and passes the
/// session's frames to the socket, returning the session's credit as the socket
/// writes them. Sends `connected` first.
caf::behavior connection_actor(connection_actor_type* self, std::uint64_t id,
                               outbox_ptr out, caf::actor supervisor,
                               std::shared_ptr<const settings> cfg,
                               std::shared_ptr<server_stats> stats);

} // namespace actorexec
