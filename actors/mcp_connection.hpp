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

/// State of one MCP-over-WebSocket connection actor.
struct mcp_connection_state {
  std::uint64_t id = 0;
  caf::actor supervisor;
  outbox_ptr out;
  std::shared_ptr<const settings> cfg;
  std::shared_ptr<server_stats> stats;
  /// The MCP session (after `initialize`), and its id.
  caf::actor session;
  std::string session_id;
  /// `initialize` is being answered: later frames wait for the session.
  bool opening = false;
  /// The sink every stream of this connection writes to.
  mcp_sink_ptr sink;
  /// Bytes handed to the socket and not yet written (all replies: MCP has
  /// no output window), and frames that wait while they are over the
  /// bound, as on /ws/mcp.
  std::uint64_t in_flight = 0;
  std::deque<std::string> deferred;
  token_bucket bucket;
  bool closing = false;

  static inline const char* name = "mcp_connection";
};

using mcp_connection_actor_type = caf::stateful_actor<mcp_connection_state>;

/// MCP over WebSocket (`/mcp`, subprotocol `mcp`): one JSON-RPC message per
/// text frame. `initialize` opens an MCP session; every later message goes
/// to it, and every message it sends back (responses, notifications) is a
/// frame. The same read window, reply bound and rate limit as a /ws/mcp
/// connection. When the socket goes, the session keeps its processes for
/// the linger time (a WebSocket has no session id to come back with).
caf::behavior mcp_connection_actor(mcp_connection_actor_type* self,
                                   std::uint64_t id, outbox_ptr out,
                                   caf::actor supervisor,
                                   std::shared_ptr<const settings> cfg,
                                   std::shared_ptr<server_stats> stats);

} // namespace actorexec
