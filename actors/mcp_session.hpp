#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/child_io.hpp"
#include "actors/mcp_output.hpp"
#include "actors/messages.hpp"
#include "actors/server_stats.hpp"
#include "actors/settings.hpp"
#include "actors/token_bucket.hpp"
#include "protocol/mcp_tasks.hpp"
#include "protocol/mcp_tools.hpp"

namespace actorexec {

/// One process an MCP session started, and what `list_processes`,
/// `read_output` and the waits need of it.
struct mcp_process {
  std::string id;
  caf::actor actor;
  std::int64_t pid = 0;
  /// The command as the client gave it (argv joined by spaces).
  std::string command;
  std::string started_at;
  caf::actor_clock::time_point started;
  /// Not started yet, running, or over (`completion` says how).
  enum class phase { starting, running, done } state = phase::starting;
  std::optional<protocol::completion> completion;
  /// Its output, and the credit it holds.
  mcp_output output;
  std::uint64_t outstanding = 0;
  /// Written to stdin once it runs (`run_command`'s `stdin`).
  std::optional<std::string> stdin_data;
  bool stdin_open = true;

  mcp_process(std::uint64_t max_bytes, protocol::overflow_policy policy)
      : output(max_bytes, policy) {}
};

/// One stream of messages toward the client: a POST's answer, or the
/// session's GET stream. It keeps what it sent, so that a client that lost
/// the connection resumes it (GET with Last-Event-ID) and gets every event
/// after that id once.
struct mcp_stream {
  std::uint64_t id = 0;
  /// The live connection, or null.
  mcp_sink_ptr sink;
  /// (event number, message) of the events sent so far, bounded.
  std::deque<std::pair<std::uint64_t, std::string>> events;
  std::uint64_t next_event = 1;
  /// Bytes of `events`.
  std::size_t bytes = 0;
  /// Its response was sent: nothing follows.
  bool done = false;
};

/// A `run_command` or `read_output` that waits (for the end, or for
/// output), on its stream.
struct mcp_wait {
  protocol::request_id request;
  std::uint64_t stream = 0;
  std::string process_id;
  protocol::mcp::tool_args args;
  std::optional<boost::json::value> progress_token;
  /// Bytes of output last reported as progress.
  std::uint64_t progress_sent = 0;
  std::uint64_t gen = 0;
  /// Its time ran out before the process started: answered once it runs.
  bool expired = false;
  /// Not empty: a `tasks/result` for this task (answered when it ends).
  std::string task_id;
};

/// An MCP task: a task-augmented `run_command` the client polls
/// (`tasks/get`) and collects (`tasks/result`), backed by one of the
/// session's processes. It lives until its ttl, whatever the streams do.
struct mcp_task {
  protocol::mcp::task_view view;
  /// Creation order: `tasks/list` pages by it, and it guards the ttl timer.
  std::uint64_t seq = 0;
  /// Empty when the command could not start.
  std::string process_id;
  /// The call's arguments: `tasks/result` renders what the plain call would.
  protocol::mcp::run_command_args args;
  /// The result when no process can render it (the command was refused or
  /// failed to start).
  std::optional<boost::json::object> result;
};

/// State of one MCP session actor.
struct mcp_session_state {
  std::string id;
  std::shared_ptr<const settings> cfg;
  std::shared_ptr<server_stats> stats;
  child_spawner spawner;
  /// The revision `initialize` agreed on (empty before it).
  std::string version;
  std::uint64_t next_process = 1;
  std::map<std::string, std::unique_ptr<mcp_process>> processes;
  /// Process ids by process actor, for their messages.
  std::map<caf::actor_addr, std::string> by_actor;
  std::map<std::uint64_t, mcp_stream> streams;
  std::uint64_t next_stream = 1;
  /// The GET stream, if one is open.
  std::uint64_t listen_stream = 0;
  /// Tasks by id, and the creation number of the next.
  std::map<std::string, mcp_task> tasks;
  std::uint64_t next_task = 1;
  /// Calls that wait, by stream.
  std::map<std::uint64_t, mcp_wait> waits;
  std::uint64_t next_gen = 1;
  /// The progress tick runs.
  bool ticking = false;
  /// Guards the linger timer.
  std::uint64_t linger_gen = 0;
  bool draining = false;
  /// The session's request rate limit (HTTP requests of one session come
  /// over any number of connections, so it is the session's, not theirs).
  token_bucket bucket;

  static inline const char* name = "mcp_session";
};

using mcp_session_actor_type = caf::stateful_actor<mcp_session_state>;

/// One MCP session (Streamable HTTP or WebSocket): its processes, each a
/// process actor as the seed protocol's, their output (mcp_output, read by
/// cursor), and the streams its answers and notifications go out on. It
/// lives while clients use it, and `session_linger_ms` after the last
/// stream closed; DELETE, expiry and the drain end it and its processes.
caf::behavior mcp_session_actor(mcp_session_actor_type* self, std::string id,
                                child_spawner spawner,
                                std::shared_ptr<const settings> cfg,
                                std::shared_ptr<server_stats> stats);

} // namespace actorexec
