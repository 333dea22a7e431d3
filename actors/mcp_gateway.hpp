#pragma once

#include <string>

#include <caf/actor.hpp>
#include <caf/event_based_actor.hpp>

#include "actors/mcp_sink.hpp"
#include "protocol/mcp_message.hpp"

namespace actorexec {

/// What a transport asks of the MCP session a message belongs to.
struct mcp_route {
  enum class kind {
    /// A request: answered on `sink` (`initialize` opens a session).
    call,
    /// A notification or response: nothing to answer; `sink` hears
    /// `done` once the session has it.
    note,
    /// A GET: the session's stream, or a resumed one (`last_event_id`).
    listen,
    /// DELETE: the session ends; `sink` hears `done`.
    end,
  } what = kind::call;
  /// The Mcp-Session-Id (empty for `initialize`).
  std::string session_id;
  protocol::mcp::message message;
  mcp_sink_ptr sink;
  std::string last_event_id;
};

/// One HTTP request to /mcp, or one message of an MCP WebSocket: finds its
/// session (or opens one for `initialize`) through the supervisor, hands it
/// the message with the sink, and quits. Failures go to the sink as an
/// HTTP status: 404 for an unknown session, 503 at the session limit, 400
/// for an unknown event id.
caf::behavior mcp_gateway(caf::event_based_actor* self, caf::actor supervisor,
                          mcp_route route);

} // namespace actorexec
