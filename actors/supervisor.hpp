#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include <boost/asio/io_context.hpp>

#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/child_io.hpp"
#include "actors/messages.hpp"
#include "actors/server_stats.hpp"
#include "actors/settings.hpp"

namespace actorexec {

/// One registered session.
struct session_entry {
  caf::actor session;
  /// The resume token; compared in constant time only.
  std::string token;
  /// An MCP session (found by its id alone, never resumed by a token).
  bool mcp = false;
};

/// State of the supervisor.
struct supervisor_state {
  std::shared_ptr<const settings> cfg;
  std::shared_ptr<server_stats> stats;
  child_spawner spawner;
  /// Live sessions by id.
  std::unordered_map<std::string, session_entry> sessions;
  /// Session ids by actor address, to clean up on `down_msg`.
  std::unordered_map<caf::actor_addr, std::string> ids;
  /// No new sessions: the server drains.
  bool draining = false;

  static inline const char* name = "supervisor";
};

using supervisor_actor_type = caf::stateful_actor<supervisor_state>;

/// The registry of sessions and admission control (`MAX_SESSIONS`). It
/// monitors every session, so a session that ends or fails never leaves a
/// registry entry behind; on shutdown it ends every session.
caf::behavior supervisor_actor(supervisor_actor_type* self,
                               child_spawner spawner,
                               std::shared_ptr<const settings> cfg,
                               std::shared_ptr<server_stats> stats);

/// A random UUID version 4, from the OS's random source.
std::string make_uuid_v4();

/// `n` random bytes from the OS, as lowercase hex.
std::string random_hex(std::size_t n);

/// Equality that takes the same time wherever the strings differ.
bool constant_time_equal(const std::string& a, const std::string& b);

} // namespace actorexec
