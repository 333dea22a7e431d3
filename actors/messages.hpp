#pragma once

// The message catalogue: every atom and message type that crosses an actor
// boundary, one comment each. Handlers name their messages in this order:
// atom first, then payload.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/value.hpp>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>

#include "actors/mcp_sink.hpp"
#include "actors/settings.hpp"
#include "protocol/encode.hpp"
#include "protocol/framer.hpp"
#include "protocol/mcp_message.hpp"
#include "protocol/messages.hpp"

namespace actorexec {

/// Encoded server frames for one socket, back to back in one buffer, and
/// each one's size: one allocation per batch of frames, not two per frame.
/// The one shape frames travel in, from the session that builds them to the
/// socket's write queue. `credited` frames are session events that count
/// against the session's connection window; the connection returns their
/// bytes to the session once written.
struct frame_batch {
  std::string text;
  std::vector<std::uint32_t> sizes;
  bool credited = false;

  /// One frame, not credited.
  static frame_batch of(std::string frame) {
    auto size = static_cast<std::uint32_t>(frame.size());
    return {std::move(frame), {size}, false};
  }

  void add(std::string_view frame) {
    text += frame;
    sizes.push_back(static_cast<std::uint32_t>(frame.size()));
  }
};

/// Output the process actor read from one stream, already framed.
struct output_batch {
  protocol::stream_kind stream = protocol::stream_kind::out;
  /// The frames' payloads, in order.
  std::vector<protocol::output_piece> pieces;
  /// Bytes read from the pipe for this batch (the credit it consumed).
  std::uint64_t raw_bytes = 0;
};

/// What a process actor needs to start a child.
struct spawn_spec {
  protocol::execute_params params;
  /// Shell for `command` ("bash", "zsh" or "sh").
  std::string shell = "bash";
  /// Environment variables never passed to children (secrets).
  std::vector<std::string> scrub_env;
  /// Resource limits set in the child before exec: (RLIMIT_*, value).
  std::vector<std::pair<int, std::uint64_t>> rlimits;
  /// The user the child runs as; null: the server's.
  std::shared_ptr<const run_as_user> run_as;
};

/// The answer to an `input` request: `error` 0 on success, else a JSON-RPC
/// error code with `message` and `data`.
struct input_result {
  int error = 0;
  std::string message;
  std::uint64_t written = 0;
  boost::json::value data = nullptr;
};

// -- net -> connection
// ---------------------------------------------------------

/// A text frame from the client: (frame_in_atom, std::string).
using frame_in_atom = caf::atom_constant<caf::atom("frame_in")>;
/// The socket is gone: (peer_gone_atom, bool clean_close, uint16_t code).
/// `code` is the transport's own (a WebSocket close code), for the log only:
/// nothing decides on it.
using peer_gone_atom = caf::atom_constant<caf::atom("peer_gone")>;
/// Bytes the socket wrote: (written_atom, uint64_t bytes).
using written_atom = caf::atom_constant<caf::atom("written")>;

// -- connection <-> supervisor
// -------------------------------------------------

/// Ask for a fresh session: (open_atom, actor connection) ->
/// (ok, actor session, std::string session_id, std::string resume_token) or
/// an error when the session limit is reached.
using open_atom = caf::atom_constant<caf::atom("open")>;

/// Find a session to resume: (resume_atom, std::string session_id,
/// std::string resume_token) -> caf::actor session, or an error when the
/// session is unknown, expired or the token is wrong.
using resume_atom = caf::atom_constant<caf::atom("resume")>;

// -- connection <-> session
// ----------------------------------------------------

/// Bind the sending connection to this session and replay: (attach_atom,
/// caf::actor connection, protocol::request resume_request) -> bool. The
/// session answers the client's `resume` itself, then replays.
using attach_atom = caf::atom_constant<caf::atom("attach")>;

/// A validated client request for the session: (request_atom,
/// protocol::request).
using request_atom = caf::atom_constant<caf::atom("request")>;
/// Frames for the client: (frames_atom, frame_batch).
using frames_atom = caf::atom_constant<caf::atom("frames")>;
/// End the client's transport after what is queued: (close_atom,
/// close_reason, std::string detail). Sessions say why; each transport maps
/// the reason to its own signal (see `close_reason`).
using close_atom = caf::atom_constant<caf::atom("close")>;

/// Why the server ends a client's transport. Transport-neutral: the
/// WebSocket maps each to a close code (net/websocket_session.cpp), and an
/// HTTP transport to its own ending.
enum class close_reason : int {
  /// The server drains for shutdown (WebSocket 1001, going away).
  shutdown,
  /// A resume on another connection took the session over (4001).
  taken_over,
  /// Refused: the server's session limit is reached (1008).
  session_limit,
};

// -- session <-> process
// -------------------------------------------------------

/// The child runs: (started_atom, int64_t pid, int64_t pgid).
using started_atom = caf::atom_constant<caf::atom("started")>;
/// The child could not start: (failed_atom, int error_code, std::string).
using failed_atom = caf::atom_constant<caf::atom("failed")>;
/// Framed output: (output_atom, output_batch).
using output_atom = caf::atom_constant<caf::atom("output")>;
/// Bytes the process may read: (credit_atom, uint64_t bytes).
using credit_atom = caf::atom_constant<caf::atom("credit")>;
/// PAUSE/RESUME/CANCEL: (control_atom, protocol::control_type) ->
/// protocol::control_status.
using control_atom = caf::atom_constant<caf::atom("control")>;
/// Bytes for stdin: (input_atom, std::string data, bool eof) -> input_result.
using input_atom = caf::atom_constant<caf::atom("input")>;
/// The process is over: (done_atom, protocol::completion). Always last.
using done_atom = caf::atom_constant<caf::atom("done")>;
/// End the process group: (terminate_atom, uint64_t grace_ms).
using terminate_atom = caf::atom_constant<caf::atom("terminate")>;

// -- process internals (from the I/O threads and timers) ----------------------

/// A pipe read finished: (read_atom, stream_kind, std::string bytes,
/// bool eof).
using read_atom = caf::atom_constant<caf::atom("read")>;
/// The child exited, not reaped yet (its zombie keeps the group's number
/// ours): (exited_atom, int wait_status).
using exited_atom = caf::atom_constant<caf::atom("exited")>;
/// How the child ended cannot be learned; it is gone and not ours to
/// signal any more: (wait_failed_atom, std::string error).
using wait_failed_atom = caf::atom_constant<caf::atom("wait_fail")>;
/// A stdin write finished: (wrote_atom, uint64_t bytes, int errno_value).
using wrote_atom = caf::atom_constant<caf::atom("wrote")>;
/// A timer fired: (timer_atom, timer_kind, uint64_t generation).
using timer_atom = caf::atom_constant<caf::atom("timer")>;

/// A timer for an actor held weakly, to the timer relay: (relay_atom,
/// caf::actor_addr target, timer_kind, uint64_t generation); the relay
/// forwards (timer_atom, kind, generation) if the target still lives.
using relay_atom = caf::atom_constant<caf::atom("relay")>;

/// Which timer fired.
enum class timer_kind : int {
  wall,
  idle,
  kill,
  force_close,
  ping,
  linger,
  drain,
  /// An MCP call's wait, and its progress tick.
  wait,
  progress,
  /// An MCP task's ttl.
  task_ttl
};

// -- MCP (net <-> supervisor, net <-> MCP session)
// ----------------------------------------------

/// A new MCP session: (mcp_open_atom) -> (caf::actor session, std::string
/// id), or an error at the session limit or while draining.
using mcp_open_atom = caf::atom_constant<caf::atom("mcp_open")>;
/// Find an MCP session by its Mcp-Session-Id: (mcp_find_atom, std::string)
/// -> caf::actor, or an error when there is none.
using mcp_find_atom = caf::atom_constant<caf::atom("mcp_find")>;
/// A client request, answered on `sink` (notifications and the response):
/// (mcp_call_atom, protocol::mcp::message, mcp_sink_ptr).
using mcp_call_atom = caf::atom_constant<caf::atom("mcp_call")>;
/// A client notification or response (nothing to answer): (mcp_note_atom,
/// protocol::mcp::message).
using mcp_note_atom = caf::atom_constant<caf::atom("mcp_note")>;
/// A GET: the session's own stream, or the stream an event id names
/// (resumed from after it): (mcp_listen_atom, mcp_sink_ptr, std::string
/// last_event_id) -> bool (false: no such stream).
using mcp_listen_atom = caf::atom_constant<caf::atom("mcp_listen")>;
/// DELETE: end the session and its processes: (mcp_end_atom) -> bool.
using mcp_end_atom = caf::atom_constant<caf::atom("mcp_end")>;
/// A sink's connection is gone; its stream keeps its events for a resume:
/// (sink_gone_atom, mcp_sink_ptr).
using sink_gone_atom = caf::atom_constant<caf::atom("sink_gone")>;
/// A signal for the whole process group (interrupt, terminate, kill):
/// (signal_atom, int signal) -> (), once the signal went to the group.
using signal_atom = caf::atom_constant<caf::atom("signal")>;

// -- session lifecycle
// ---------------------------------------------------------

/// The client closed cleanly or the session must end now:
/// (end_atom, uint64_t grace_ms).
using end_atom = caf::atom_constant<caf::atom("end")>;
/// The server drains: (shutdown_atom, uint64_t grace_ms).
using shutdown_atom = caf::atom_constant<caf::atom("shutdown")>;

} // namespace actorexec

// These types never leave the process: they travel between local actors only,
// so CAF needs no serializer for them.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(actorexec::frame_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(actorexec::output_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(actorexec::spawn_spec)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(actorexec::input_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(actorexec::protocol::request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(actorexec::protocol::completion)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(actorexec::protocol::control_type)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(actorexec::protocol::control_status)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(actorexec::protocol::stream_kind)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(actorexec::timer_kind)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(actorexec::close_reason)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(actorexec::mcp_sink_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(actorexec::protocol::mcp::message)
