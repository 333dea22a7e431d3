// The tools' definitions for tools/list: names, descriptions and the JSON
// schemas of their arguments and results.

#include "protocol/mcp_tools.hpp"

#include <boost/json/parse.hpp>

namespace actorexec::protocol::mcp {

namespace json = boost::json;

namespace {

// -- schemas ------------------------------------------------------------------

json::value schema(std::string_view text) {
  return json::parse(json::string_view{text.data(), text.size()});
}

// The schemas are JSON as it would be written by hand (raw strings), so the
// formatter leaves them alone.
// clang-format off

/// The output fields of run_command and read_output (both streams).
constexpr std::string_view output_fields = R"js(
  "stdout": {"type": "string", "description": "Output on stdout: UTF-8, or base64 when stdout_encoding says so"},
  "stderr": {"type": "string", "description": "Output on stderr: UTF-8, or base64 when stderr_encoding says so"},
  "stdout_encoding": {"type": "string", "enum": ["utf8", "base64"]},
  "stderr_encoding": {"type": "string", "enum": ["utf8", "base64"]},
  "cursor": {"type": "string", "description": "Pass to read_output to get the output after this page"},
  "status": {"type": "string", "enum": ["running", "exited", "killed", "timed_out"]},
  "exit_code": {"type": ["integer", "null"]},
  "signal": {"type": ["integer", "null"]},
  "dropped_bytes": {"type": "integer", "description": "Output lost under on_overflow drop_oldest between the cursor read from and this page's bytes; 0 under block"})js";

constexpr std::string_view process_id_schema = R"js(
  "process_id": {"type": "string", "description": "The process_id run_command returned"})js";

json::object run_command_tool() {
  auto input = schema(R"js({"type": "object", "additionalProperties": false,
    "properties": {
      "command": {"type": "string", "description": "A shell command, run by /bin/sh -c"},
      "argv": {"type": "array", "items": {"type": "string"}, "minItems": 1, "description": "A program and its arguments, run without a shell"},
      "cwd": {"type": "string", "description": "Working directory"},
      "env": {"type": "object", "additionalProperties": {"type": "string"}, "description": "Variables added to the environment"},
      "stdin": {"type": "string", "description": "Written to stdin, then EOF. Without it stdin stays open for send_input"},
      "timeout_s": {"type": "number", "exclusiveMinimum": 0, "description": "Wall-clock limit, then the process is cancelled"},
      "wait_s": {"type": "number", "minimum": 0, "default": 10, "description": "How long to wait for the process to end before returning; 0: at once"},
      "max_output_bytes": {"type": "integer", "minimum": 1, "default": 65536, "description": "Most output bytes returned now; read_output pages the rest"},
      "on_overflow": {"type": "string", "enum": ["block", "drop_oldest"], "default": "block", "description": "When unread output fills the buffer: block the process, nothing lost, or drop the oldest output"}
    }})js");
  auto output = schema(std::string{R"js({"type": "object", "properties": {
      "process_id": {"type": "string"},
      "pid": {"type": "integer"},
      "truncated": {"type": "boolean", "description": "More output than this page: read_output from cursor"},
      "duration_s": {"type": "number"},)js"} + std::string{output_fields} + R"js(},
    "required": ["process_id", "pid", "status", "stdout", "stderr", "cursor", "truncated", "dropped_bytes", "duration_s"]})js");
  return {{"name", "run_command"},
          {"title", "Run a command"},
          {"description",
           "Starts a process (a shell command or an argv) and waits up to wait_s "
           "seconds for it to end. Returns its status, exit code and the first "
           "max_output_bytes of stdout and stderr, with a cursor: a long or "
           "still running process is read on with read_output."},
          {"inputSchema", std::move(input)},
          {"outputSchema", std::move(output)},
          {"annotations", json::object{{"readOnlyHint", false},
                                       {"destructiveHint", true},
                                       {"idempotentHint", false},
                                       {"openWorldHint", true}}},
          // A long command is what MCP tasks are for (docs/mcp.md, "Tasks").
          {"execution", json::object{{"taskSupport", "optional"}}}};
}

json::object read_output_tool() {
  auto input = schema(std::string{R"js({"type": "object", "additionalProperties": false,
    "properties": {)js"} + std::string{process_id_schema} + R"js(,
      "cursor": {"type": "string", "description": "Where to read from: a cursor of an earlier result; default: the start"},
      "max_bytes": {"type": "integer", "minimum": 1, "default": 65536},
      "wait_s": {"type": "number", "minimum": 0, "default": 0, "description": "Wait this long for new output or the end"},
      "stream": {"type": "string", "enum": ["both", "stdout", "stderr"], "default": "both", "description": "Which stream to return; the cursor moves past both"}
    }, "required": ["process_id"]})js");
  auto output = schema(std::string{R"js({"type": "object", "properties": {
      "eof": {"type": "boolean", "description": "No more output will come"},)js"} + std::string{output_fields} + R"js(},
    "required": ["stdout", "stderr", "cursor", "eof", "status", "dropped_bytes"]})js");
  return {{"name", "read_output"},
          {"title", "Read a process's output"},
          {"description",
           "Returns the output of a process after a cursor, up to max_bytes, "
           "waiting up to wait_s for more. Reading every page from the first "
           "cursor to eof gives each byte once and in order; output before "
           "the cursor you pass is released."},
          {"inputSchema", std::move(input)},
          {"outputSchema", std::move(output)},
          {"annotations", json::object{{"readOnlyHint", true},
                                       {"idempotentHint", true},
                                       {"openWorldHint", false}}}};
}

json::object send_input_tool() {
  auto input = schema(std::string{R"js({"type": "object", "additionalProperties": false,
    "properties": {)js"} + std::string{process_id_schema} + R"js(,
      "data": {"type": "string", "description": "Text written to the process's stdin"},
      "eof": {"type": "boolean", "default": false, "description": "Close stdin after the data"}
    }, "required": ["process_id"]})js");
  auto output = schema(R"js({"type": "object", "properties": {
      "accepted_bytes": {"type": "integer"},
      "stdin_open": {"type": "boolean"}
    }, "required": ["accepted_bytes", "stdin_open"]})js");
  return {{"name", "send_input"},
          {"title", "Write to a process's stdin"},
          {"description",
           "Writes data to a running process's stdin, and closes stdin when "
           "eof is true."},
          {"inputSchema", std::move(input)},
          {"outputSchema", std::move(output)},
          {"annotations", json::object{{"readOnlyHint", false},
                                       {"destructiveHint", false},
                                       {"idempotentHint", false},
                                       {"openWorldHint", false}}}};
}

json::object signal_process_tool() {
  auto input = schema(std::string{R"js({"type": "object", "additionalProperties": false,
    "properties": {)js"} + std::string{process_id_schema} + R"js(,
      "action": {"type": "string", "enum": ["pause", "resume", "interrupt", "terminate", "kill", "cancel"], "description": "pause/resume: SIGSTOP/SIGCONT; interrupt: SIGINT; terminate: SIGTERM; kill: SIGKILL; cancel: SIGTERM, then SIGKILL after the grace period. Always to the whole process group"}
    }, "required": ["process_id", "action"]})js");
  auto output = schema(R"js({"type": "object", "properties": {
      "status": {"type": "string"},
      "pid": {"type": "integer"}
    }, "required": ["status", "pid"]})js");
  return {{"name", "signal_process"},
          {"title", "Signal a process"},
          {"description",
           "Pauses, resumes, interrupts or ends a process and everything it "
           "started (its process group)."},
          {"inputSchema", std::move(input)},
          {"outputSchema", std::move(output)},
          {"annotations", json::object{{"readOnlyHint", false},
                                       {"destructiveHint", true},
                                       {"idempotentHint", false},
                                       {"openWorldHint", false}}}};
}

json::object list_processes_tool() {
  auto input = schema(R"js({"type": "object", "additionalProperties": false, "properties": {}})js");
  auto output = schema(R"js({"type": "object", "properties": {
      "processes": {"type": "array", "items": {"type": "object", "properties": {
        "process_id": {"type": "string"},
        "pid": {"type": "integer"},
        "command": {"type": "string"},
        "status": {"type": "string", "enum": ["running", "exited", "killed", "timed_out"]},
        "exit_code": {"type": ["integer", "null"]},
        "started_at": {"type": "string"},
        "stdout_bytes": {"type": "integer"},
        "stderr_bytes": {"type": "integer"}
      }, "required": ["process_id", "pid", "command", "status", "exit_code", "started_at", "stdout_bytes", "stderr_bytes"]}}
    }, "required": ["processes"]})js");
  return {{"name", "list_processes"},
          {"title", "List processes"},
          {"description",
           "Lists this session's processes with their status, command, start "
           "time and output sizes."},
          {"inputSchema", std::move(input)},
          {"outputSchema", std::move(output)},
          {"annotations", json::object{{"readOnlyHint", true},
                                       {"idempotentHint", true},
                                       {"openWorldHint", false}}}};
}

// clang-format on

} // namespace

json::array tool_definitions() {
  return {run_command_tool(), read_output_tool(), send_input_tool(),
          signal_process_tool(), list_processes_tool()};
}

} // namespace actorexec::protocol::mcp
