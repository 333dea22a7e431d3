#pragma once

#include <memory>
#include <string>

#include <caf/actor.hpp>

namespace actorexec {

/// Where an MCP session's messages for one stream go: a POST's response
/// (JSON or an SSE stream), a GET's SSE stream, or a WebSocket. The door
/// from the MCP session actor to the transport, as `outbox` is for the
/// seed protocol's connections: thread-safe, every call returns at once
/// and posts the work to the transport's strand.
class mcp_sink {
public:
  virtual ~mcp_sink() = default;

  /// One message for the client, with its SSE event id. An empty `json` is
  /// the priming event (an id and no data) a client resumes from.
  virtual void event(std::string id, std::string json) = 0;

  /// The stream is over (its response was sent): nothing follows.
  virtual void done() = 0;

  /// The exchange belongs to `session`, whose id is `id` (for a new
  /// session, the id to announce: Mcp-Session-Id). A transport that loses
  /// its connection tells the session (sink_gone_atom).
  virtual void bound(caf::actor session, std::string id) = 0;

  /// The exchange fails before the session saw it: an HTTP status (404 for
  /// an unknown session, 503 at the session limit ...) and a JSON-RPC error
  /// body.
  virtual void refuse(int status, std::string json) = 0;
};

using mcp_sink_ptr = std::shared_ptr<mcp_sink>;

} // namespace actorexec
