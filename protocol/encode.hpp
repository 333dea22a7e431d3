#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "protocol/errors.hpp"
#include "protocol/framer.hpp"
#include "protocol/messages.hpp"
#include "protocol/status.hpp"

namespace actorexec::protocol {

/// Protocol version announced in `connected`.
inline constexpr std::string_view protocol_version = "1.0.0";

/// `{"jsonrpc":"2.0","id":ID,"result":RESULT}`; no `id` key if `id` is empty.
std::string encode_result(const request_id& id, boost::json::value result);

/// `{"jsonrpc":"2.0","id":ID,"error":{"code","message","data"}}`.
std::string encode_error(const request_id& id, const rpc_error& err);

/// `{"jsonrpc":"2.0","method":METHOD,"params":PARAMS}`.
std::string encode_notification(std::string_view method,
                                boost::json::object params);

/// The `connected` notification, the first frame of every connection.
std::string encode_connected(std::string_view session_id,
                             std::string_view resume_token,
                             std::uint64_t heartbeat_interval_ms);

/// One `process.output` frame. Hot path: built without a JSON DOM.
std::string encode_output(stream_kind stream, const output_piece& piece,
                          std::uint64_t seq);

/// `encode_output`, appended to `out` (a batch of frames).
void append_output(std::string& out, stream_kind stream,
                   const output_piece& piece, std::uint64_t seq);

/// `process.started|paused|resumed|canceled`: `{status, pid, pgid,
/// exit_code:null, error:null, seq}`. `method` is e.g. "process.paused",
/// `status` e.g. "paused".
std::string encode_process_event(std::string_view method,
                                 std::string_view status, std::int64_t pid,
                                 std::int64_t pgid, std::uint64_t seq);

/// What `process.completed` reports.
struct completion {
  end_status status = end_status::completed;
  std::int64_t pid = 0;
  std::int64_t pgid = 0;
  /// Exit code, or minus the signal number; null if never known.
  std::optional<std::int64_t> exit_code;
  /// Signal number that ended the process, if any.
  std::optional<int> signal;
  /// Why the process failed, if it did.
  std::optional<std::string> error;
  /// Seconds from spawn to completion.
  double execution_time = 0;
};

/// `process.completed`: always the last event of a process.
std::string encode_completed(const completion& c, std::uint64_t seq);

/// `process.error`: a failure that is not the process's own exit.
std::string encode_process_error(std::string_view error, std::uint64_t seq);

/// Adds `"warnings"` to an object `result`, one for each of a request's
/// unknown params ("unknown param 'timout' was ignored"); nothing when
/// there are none.
void add_warnings(boost::json::value& result,
                  const std::vector<std::string>& unknown_params);

/// `stream.gap`: output dropped under `on_overflow:"drop_oldest"`, or
/// missed by a resume. `exact` false: `dropped_bytes` is only a lower
/// bound, said with `"dropped_bytes_exact":false`.
std::string encode_stream_gap(stream_kind stream, std::uint64_t dropped_bytes,
                              std::uint64_t dropped_frames, std::uint64_t seq,
                              bool exact = true);

/// The JSON-level heartbeat `ping` notification.
std::string encode_ping(double timestamp);

/// `server.shutdown`: the server is draining.
std::string encode_server_shutdown(std::uint64_t grace_ms);

/// Appends `s` to `out` as a JSON string literal, quotes included. `s` must
/// be valid UTF-8.
void append_json_string(std::string& out, std::string_view s);

/// Length of the longest prefix of `s` that a JSON string holds as it is:
/// no control character, quote or backslash (8 bytes per step).
std::size_t json_clean_prefix(std::string_view s);

} // namespace actorexec::protocol
