#pragma once

// MCP tasks (revision 2025-11-25), the pure part: a task as the client sees
// it, the params of tasks/get, tasks/result, tasks/cancel and tasks/list,
// and the `_meta` that ties a result to its task. The session actor owns
// the tasks themselves (actors/mcp_session_tasks.cpp).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <boost/json/object.hpp>

#include "protocol/errors.hpp"

namespace actorexec::protocol::mcp {

/// Where a task is: `working` until its process ends, then `completed`
/// (exit status 0) or `failed`; `cancelled` by tasks/cancel. The last three
/// are terminal.
enum class task_status { working, completed, failed, cancelled };

std::string_view to_string(task_status s);

inline bool terminal(task_status s) {
  return s != task_status::working;
}

/// A task as tasks/get, tasks/list, tasks/cancel and the status
/// notification show it.
struct task_view {
  std::string id;
  task_status status = task_status::working;
  /// Empty: no `statusMessage`.
  std::string status_message;
  /// ISO 8601 (UTC).
  std::string created_at;
  std::string updated_at;
  std::uint64_t ttl_ms = 0;
  std::uint64_t poll_ms = 0;
};

/// The `Task` object.
boost::json::object task_object(const task_view& t);

/// `params.taskId` of tasks/get, tasks/result and tasks/cancel (-32602 when
/// missing or not a string).
std::variant<std::string, rpc_error>
decode_task_id(const boost::json::object& params);

/// The `tasks/list` cursor: the creation number to list from. Absent
/// `cursor`: from the start; one this server did not give out: -32602.
std::variant<std::uint64_t, rpc_error>
decode_task_cursor(const boost::json::object& params);
std::string encode_task_cursor(std::uint64_t from);

/// Adds `_meta["io.modelcontextprotocol/related-task"]` to a result, as
/// tasks/result must.
void relate_to_task(boost::json::object& result, std::string_view task_id);

/// -32602 for a task id this session does not know (never had, or
/// forgotten after its ttl).
rpc_error unknown_task(std::string_view task_id);

} // namespace actorexec::protocol::mcp
