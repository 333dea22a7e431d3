#pragma once

// Internal to the MCP session actor: what its sources share. Streams,
// dispatch and lifecycle are in mcp_session.cpp; the tools in
// mcp_session_tools.cpp; what a process says, and the calls that wait on
// it, in mcp_session_waits.cpp.

#include <cstdint>
#include <optional>
#include <string>

#include <boost/json/value.hpp>

#include "actors/mcp_session.hpp"
#include "protocol/mcp_message.hpp"

namespace actorexec::mcp_parts {

using self_type = mcp_session_actor_type*;

/// Appends a message to a stream (kept for a resume) and sends it to the
/// stream's connection, if one is there.
void emit(self_type self, std::uint64_t stream, std::string json);

/// The stream's last message: its response. The stream is over.
void respond(self_type self, std::uint64_t stream, std::string json);
void respond_result(self_type self, std::uint64_t stream,
                    const protocol::request_id& id, boost::json::value result);
void respond_error(self_type self, std::uint64_t stream,
                   const protocol::request_id& id,
                   const protocol::rpc_error& error);

/// The session is idle (no connection, no call waits): it ends after the
/// linger time unless used again.
void maybe_linger(self_type self);

/// A `tools/call`, decoded, on `stream`.
void call_tool(self_type self, std::uint64_t stream,
               const protocol::request_id& id, protocol::mcp::tool_call& call);

/// `notifications/cancelled` for `id`: a waiting run_command's process is
/// cancelled; its call gets no answer.
void on_cancelled(self_type self, const protocol::request_id& id);

/// What the process actors say (identified by their address).
void on_started(self_type self, const caf::actor_addr& from, std::int64_t pid);
void on_failed(self_type self, const caf::actor_addr& from, std::string what);
void on_output(self_type self, const caf::actor_addr& from,
               output_batch& batch);
void on_done(self_type self, const caf::actor_addr& from,
             protocol::completion& c);

/// A call's wait ran out; the progress tick.
void on_wait_timer(self_type self, std::uint64_t gen);
void on_progress_tick(self_type self);

/// Ends every process still running (the termination ladder with
/// `grace_ms`).
void terminate_processes(self_type self, std::uint64_t grace_ms);

/// Processes not over yet.
std::size_t running_processes(const mcp_session_state& st);

// -- between the tools and the waits ------------------------------------------

/// The process named `id` by the client, or the one behind an actor.
mcp_process* find(mcp_session_state& st, const std::string& id);
mcp_process* find(mcp_session_state& st, const caf::actor_addr& addr);

/// Answers a call with a tool error (`isError`), logged.
void tool_error(self_type self, std::uint64_t stream,
                const protocol::request_id& id, std::string reason);

/// A process as results show it: `status` (`running`, `exited`, `killed`,
/// `timed_out`), `exit_code` and `signal` (null when none).
const char* status_of(const mcp_process& p);
boost::json::value exit_code_of(const mcp_process& p);
boost::json::value signal_of(const mcp_process& p);

/// Grants the process what its output buffer can take now.
void grant_credit(self_type self, mcp_process& p);

/// Answers a `read_output` call now, with what there is.
void answer_read(self_type self, mcp_wait& w);

/// What a plain `run_command` answers for process `p` now.
boost::json::object run_result(self_type self, mcp_process& p,
                               const protocol::mcp::run_command_args& args);

/// Answers the wait on `stream`, if one is there, with what there is now.
void answer(self_type self, std::uint64_t stream);

/// Waits `seconds` on `stream` (the timer answers it then), with progress
/// notifications if the call asked for them.
void add_wait(self_type self, mcp_wait w, double seconds);

// -- tasks (mcp_session_tasks.cpp) --------------------------------------------

/// A task-augmented `run_command` answered with its task: `process_id` is
/// the process started for it, or empty when `refused` says why none was.
void create_task(self_type self, std::uint64_t stream,
                 const protocol::request_id& id, std::string process_id,
                 protocol::mcp::run_command_args args,
                 const protocol::mcp::task_request& req,
                 std::optional<std::string> refused);

/// `tasks/get`, `tasks/result`, `tasks/list`, `tasks/cancel`; false for
/// any other method.
bool on_task_request(self_type self, std::uint64_t stream,
                     protocol::mcp::message& msg);

/// Answers a `tasks/result` that waited (`w.task_id`).
void answer_task_result(self_type self, mcp_wait& w);

/// The process behind a task ended (`on_done`) or could not start
/// (`on_failed`, with `what`): the task's status follows.
void task_process_ended(self_type self, const mcp_process& p);
void task_process_failed(self_type self, const std::string& process_id,
                         const std::string& what);

/// A task's ttl passed (`gen` is its creation number).
void on_task_ttl(self_type self, std::uint64_t gen);

/// Some task is backed by process `id` (it is kept while the task is).
bool backs_task(const mcp_session_state& st, const std::string& id);

} // namespace actorexec::mcp_parts
