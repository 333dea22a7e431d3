#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "actors/server_stats.hpp"
#include "actors/settings.hpp"
#include "net/admission.hpp"
#include "net/auth.hpp"

namespace actorexec::net {

/// What every socket of the server needs: the actor system to spawn its
/// connection actor in, the supervisor, settings and counters.
struct server_context {
  caf::actor_system* system = nullptr;
  caf::actor supervisor;
  std::shared_ptr<const settings> cfg;
  std::shared_ptr<server_stats> stats;
  /// Numbers connections for logs.
  std::atomic<std::uint64_t> next_connection_id{1};
  /// Largest HTTP request body accepted (upgrade and health requests have
  /// none worth the name).
  std::uint64_t http_body_limit = 64 * 1024;
  /// Inbound WebSocket message limit (1009 beyond it).
  std::uint64_t max_message_bytes = 1 << 20;
  /// Bytes of client frames (each charged at least `inbound_charge`) a
  /// socket may have read that its connection actor has not handled yet;
  /// at the bound it stops reading. At least one largest message.
  std::uint64_t inbound_window_bytes = 4 << 20;
  /// Deadline of the HTTP request and the WebSocket handshake.
  std::uint64_t handshake_timeout_ms = 10000;
  /// Bearer token and Origin allow-list; the defaults let everyone in.
  access_policy access;
  /// Most WebSockets at once (0: unlimited); enforced by `admit`.
  std::size_t max_connections = 0;
  /// Places under the connection limits; unlimited unless main replaces it.
  std::shared_ptr<admission> admit = std::make_shared<admission>(0, 0);
  /// Most connections not yet upgraded at once (0: unlimited); enforced by
  /// `http_admit`, whose places the listener takes at accept.
  std::size_t max_http_connections = 0;
  std::shared_ptr<admission> http_admit = std::make_shared<admission>(0, 0);
};

/// What an http_session hands its websocket_session besides the request.
struct upgrade_info {
  /// The subprotocol to echo in the handshake response; empty: none.
  std::string subprotocol;
  /// Held for the WebSocket's lifetime: its place under the limits.
  std::shared_ptr<void> slot;
  /// Bytes the client sent after its upgrade request, read with it: the
  /// start of its first frames.
  std::string early_bytes;
  /// MCP over WebSocket (`/mcp`): an MCP connection actor, not the seed
  /// protocol's.
  bool mcp = false;
};

} // namespace actorexec::net
