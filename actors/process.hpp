#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>

#include <caf/actor_clock.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/child_io.hpp"
#include "actors/messages.hpp"
#include "actors/server_stats.hpp"
#include "actors/settings.hpp"
#include "protocol/framer.hpp"

namespace actorexec {

/// State of the actor that owns one child process.
struct process_state {
  /// The session that spawned us; receives every event.
  caf::actor session;
  /// The I/O side: pipes, pidfd, process group.
  std::shared_ptr<child_port> io;
  std::shared_ptr<const settings> cfg;
  std::shared_ptr<server_stats> stats;
  /// Process id; also the process group id (the child called setsid).
  std::int64_t pid = 0;
  /// One framer per stream (stdout, stderr).
  std::array<std::optional<protocol::output_framer>, 2> framers;
  /// Whether each stream reached end of file.
  std::array<bool, 2> eof{{false, false}};
  /// Size of the read outstanding on each stream (0: none).
  std::array<std::uint64_t, 2> reading{{0, 0}};
  /// Bytes read from each stream.
  std::array<std::uint64_t, 2> bytes{{0, 0}};
  /// Bytes the session allows us to read and hand over.
  std::uint64_t credit = 0;
  /// Largest read, by framing (see settings).
  std::uint64_t max_read = 0;
  /// The child exited, and how (waitpid status; or `wait_error` when that
  /// could not be learned). Not reaped yet: `io` reaps it when we are done,
  /// so that the group's number stays ours while we may signal it.
  bool exited = false;
  int wait_status = 0;
  std::string wait_error;
  /// SIGSTOP is in force.
  bool paused = false;
  /// The termination ladder runs; `end_status` says why.
  bool terminating = false;
  /// `done` went to the session (and the end was counted); shared with
  /// the cleanup that runs after the state is gone.
  std::shared_ptr<bool> done = std::make_shared<bool>(false);
  /// `canceled` or `timed_out` once the ladder started.
  std::optional<protocol::end_status> end_status;
  /// SIGKILL went to the group.
  bool killed = false;
  /// Close the pipes at once after SIGKILL (nobody will read them).
  bool discard_output = false;
  /// When the child started, for `execution_time`.
  caf::actor_clock::time_point started_at;
  /// Wall-clock and idle limits; their deadlines, and what remains of them
  /// while paused.
  std::optional<caf::timespan> wall_limit, idle_limit;
  caf::actor_clock::time_point wall_deadline, idle_deadline;
  caf::timespan wall_left{0}, idle_left{0};
  /// Bumped on pause, so that timers armed before it are ignored.
  std::uint64_t timer_gen = 0;
  /// An `input` request waiting for its bytes to reach the pipe, and what
  /// it counts against `settings::max_pending_input_bytes`.
  struct input_waiter {
    caf::response_promise promise;
    std::uint64_t charge = 0;
  };
  std::deque<input_waiter> input_waiters;
  /// The charges of `input_waiters` together.
  std::uint64_t pending_input = 0;
  /// stdin was closed by `eof` (or never existed).
  bool stdin_closed = false;

  static inline const char* name = "process";
};

using process_actor_type = caf::stateful_actor<process_state>;

/// Owns one child: spawns it (new session and process group), reads stdout
/// and stderr only while it holds credit, writes stdin, signals the group,
/// enforces `timeout` and `idle_timeout`, runs the termination ladder and
/// reports `done` after both pipes closed and the child exited; the child is
/// reaped only then, so its group's number is never reused while we may
/// signal it.
caf::behavior process_actor(process_actor_type* self, caf::actor session,
                            spawn_spec spec, child_spawner spawner,
                            std::shared_ptr<const settings> cfg,
                            std::shared_ptr<server_stats> stats);

} // namespace actorexec
