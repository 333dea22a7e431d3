#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "protocol/errors.hpp"
#include "protocol/limits.hpp"
#include "protocol/messages.hpp"

namespace actorexec::protocol::mcp {

/// The tools' definitions for `tools/list`: name, title, description,
/// inputSchema, outputSchema, annotations.
boost::json::array tool_definitions();

/// `run_command`: a process, and how long to wait for it.
struct run_command_args {
  /// What to run (command under /bin/sh, or argv), its cwd, env, timeout
  /// (from `timeout_s`) and overflow policy; stdin is always a pipe.
  execute_params exec;
  /// Written to stdin, then EOF; absent: stdin stays open (`send_input`).
  std::optional<std::string> stdin_data;
  /// Seconds to wait for the process to end (0: return at once).
  double wait_s = 10;
  /// Most output bytes in the result (both streams).
  std::uint64_t max_output_bytes = 65536;
};

/// Which stream `read_output` returns.
enum class stream_filter { both, stdout_only, stderr_only };

/// `read_output`: the output after `cursor`.
struct read_output_args {
  std::string process_id;
  /// Where to read from (absent: from the start).
  std::optional<std::uint64_t> cursor;
  std::uint64_t max_bytes = 65536;
  /// Seconds to wait for new output or the end (0: return at once).
  double wait_s = 0;
  stream_filter stream = stream_filter::both;
};

/// `send_input`: bytes for stdin, then maybe EOF.
struct send_input_args {
  std::string process_id;
  std::string data;
  bool eof = false;
};

/// What `signal_process` does to the process group.
enum class signal_action { pause, resume, interrupt, terminate, kill, cancel };

/// `signal_process`.
struct signal_process_args {
  std::string process_id;
  signal_action action = signal_action::cancel;
};

/// `list_processes`.
struct list_processes_args {};

using tool_args =
    std::variant<run_command_args, read_output_args, send_input_args,
                 signal_process_args, list_processes_args>;

/// A `tools/call`'s `task` field: run it as an MCP task.
struct task_request {
  /// The lifetime the client asks for, in milliseconds (absent: the
  /// server's maximum).
  std::optional<std::uint64_t> ttl_ms;
};

/// A `tools/call` request, decoded.
struct tool_call {
  std::string name;
  tool_args args;
  /// `_meta.progressToken`, when the client wants progress.
  std::optional<boost::json::value> progress_token;
  /// Present: the call is task-augmented (only run_command takes it).
  std::optional<task_request> task;
};

/// Decodes `tools/call` params: the tool's name, its arguments checked
/// against its inputSchema (-32602 naming the argument; an unknown tool or
/// argument is -32602 too), the progress token, the `task` field (-32601
/// on a tool whose taskSupport is forbidden, as the spec asks). `limits` bounds
/// the sizes of what `run_command` and `send_input` carry.
std::variant<tool_call, rpc_error>
decode_tool_call(const boost::json::object& params,
                 const request_limits& limits);

/// The opaque cursor for output offset `offset`, and back.
std::string encode_cursor(std::uint64_t offset);
std::optional<std::uint64_t> decode_cursor(std::string_view cursor);

/// One stream's text in a result: UTF-8 as is, or base64 when the bytes are
/// not valid UTF-8 (never silently replaced).
struct stream_text {
  std::string text;
  bool base64 = false;
};
stream_text render_bytes(std::string_view bytes);

/// A tool result: `structured` as `structuredContent`, `text` as the one
/// text content item, `is_error` as `isError`.
boost::json::object tool_result(boost::json::object structured,
                                std::string text, bool is_error = false);

/// A tool error result (no structured content): one line saying why.
boost::json::object tool_error(std::string reason);

/// A model-readable rendering of a run_command or read_output result.
std::string render_output_text(const boost::json::object& structured);

} // namespace actorexec::protocol::mcp
