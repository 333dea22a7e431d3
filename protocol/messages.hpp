#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "protocol/errors.hpp"

namespace actorexec::protocol {

/// How a process's output is cut into `process.output` frames.
enum class framing_mode { lines, chunks };

/// What a session does when its retention buffer is full (spec section 6).
enum class overflow_policy { block, drop_oldest };

/// The two output streams of a child.
enum class stream_kind { out, err };

/// Returns "stdout" or "stderr".
const char* to_string(stream_kind kind);

/// A JSON-RPC id: a string or an integer, echoed exactly; absent when the
/// request had none (the response then has no `id` key at all).
using request_id = std::optional<boost::json::value>;

/// Largest `timeout` and `idle_timeout`, in seconds (about 31.7 years). The
/// process actor keeps its clocks as int64 nanoseconds (`caf::timespan`,
/// which ends at 9.2e18 ns, 292 years) and adds them to the steady clock's
/// now (time since boot); 1e9 s is 1e18 ns, so neither the conversion nor
/// the deadline can overflow, where 1e10 s wrapped around and killed the
/// process at once.
constexpr double max_timeout_seconds = 1e9;

/// `execute`: run `command` under the shell, or `argv` without one.
struct execute_params {
  /// Shell command; set exactly when `argv` is empty.
  std::optional<std::string> command;
  /// Executable and arguments, run without a shell.
  std::vector<std::string> argv;
  /// Wall-clock limit in seconds (positive, at most
  /// `max_timeout_seconds`), then the process is cancelled.
  std::optional<double> timeout;
  /// Seconds without output before the process is cancelled (the same
  /// bounds).
  std::optional<double> idle_timeout;
  /// Working directory of the child.
  std::optional<std::string> cwd;
  /// Variables added to the child's environment, in request order.
  std::vector<std::pair<std::string, std::string>> env;
  /// Whether the child gets a stdin pipe (else /dev/null).
  bool stdin_pipe = false;
  framing_mode framing = framing_mode::lines;
  overflow_policy on_overflow = overflow_policy::block;
};

/// `control.type`.
enum class control_type { pause, resume, cancel };

/// `control`: signal the running process.
struct control_params {
  control_type type = control_type::pause;
};

/// `input`: bytes for the child's stdin.
struct input_params {
  /// The bytes to write, already decoded from base64 if so requested.
  std::string data;
  /// Close stdin after writing.
  bool eof = false;
};

/// `ack`: every event with `seq` at or below this was received.
struct ack_params {
  std::uint64_t seq = 0;
};

/// `resume`: rebind this connection to a surviving session.
struct resume_params {
  std::string session_id;
  std::string resume_token;
  std::uint64_t last_seq = 0;
};

/// Methods without params (their params, if any, are ignored).
struct status_params {};
struct detach_params {};
struct ping_params {};
struct pong_params {};
struct hook_status_params {};

/// The params of any known method.
using request_params =
    std::variant<execute_params, control_params, input_params, status_params,
                 ack_params, resume_params, detach_params, ping_params,
                 pong_params, hook_status_params>;

/// One decoded, validated client request.
struct request {
  /// Echoed in the response; absent when the client sent none.
  request_id id;
  /// The method name as sent.
  std::string method;
  request_params params;
  /// Params the method does not know, in the order sent. They are ignored
  /// (the seed protocol's rule), and named back to the client as a
  /// warning, or refused under --strict-params: a misspelt `timout` would
  /// otherwise silently run a command without its time limit.
  std::vector<std::string> unknown_params;
};

/// The outcome of decoding one text frame.
struct decode_result {
  /// Set when the frame is a valid request.
  std::optional<request> req;
  /// Set when the frame must be answered with an error.
  std::optional<rpc_error> error;
  /// The id to answer the error with (absent if unknown or missing).
  request_id id;
  /// True for frames to drop silently: notifications (no id) of unknown
  /// methods. Neither `req` nor `error` is set then.
  bool ignore = false;
};

/// Decodes and validates one text frame (spec sections 2, 4 and 8).
/// Never throws.
decode_result decode(std::string_view text);

/// Validates `execute` params alone (the same rules and messages as in a
/// frame), for other front ends that start processes (MCP's run_command).
/// `unknown` receives the keys no rule read.
std::optional<rpc_error> decode_execute(const boost::json::object& params,
                                        execute_params& out,
                                        std::vector<std::string>* unknown);

} // namespace actorexec::protocol
