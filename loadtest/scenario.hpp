#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

namespace actorexec::loadtest {

/// A scenario file that cannot be used; `what()` names the offending field
/// by its JSON path, e.g. `phases[0].session.framing`.
class scenario_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// The stdout a generator with known output must produce, compared byte by
/// byte while it streams in.
struct verify_spec {
  enum class kind { none, seq, text, repeat_line };
  kind what = kind::none;
  /// `seq`: the first and last number printed, one per line.
  std::int64_t seq_from = 1;
  std::int64_t seq_to = 0;
  /// `text`: the exact stdout; `repeat_line`: one line without its "\n".
  std::string text;
  /// `repeat_line`: how many times the line is printed.
  std::uint64_t count = 0;
  /// Expected stdout size in bytes.
  std::uint64_t expected_bytes() const;
};

/// A hostile client (issue 25): what it floods the server with, and which of
/// the server's answers are the documented defence rather than errors.
struct attack_spec {
  enum class kind {
    none,
    /// `input` requests of `bytes` each to a child that never reads its
    /// stdin, sent without waiting for answers; then CANCEL.
    input_flood,
    /// `{"id":1,"method":"ping"}` requests, all sent before anything is
    /// read; reading starts `hold_ms` later.
    reply_flood,
    /// `ping` requests with `numbers` numbers in params, back to back.
    frame_flood,
    /// WebSocket ping frames, all at once.
    ping_flood,
    /// Reads `count` output frames of its command, sends a Close and stops
    /// reading for `hold_ms`; then waits for the connection's end.
    slow_close,
  };
  kind what = kind::none;
  /// Requests, frames or pings per round; slow_close: frames read first.
  std::uint32_t count = 0;
  /// input_flood: bytes of each input's `data`.
  std::uint32_t bytes = 1000000;
  /// frame_flood: numbers in each frame's params array.
  std::uint32_t numbers = 300000;
  /// reply_flood and slow_close: how long nothing is read.
  std::uint32_t hold_ms = 1000;
  /// Rounds, each on a new connection (a new server session).
  std::uint32_t rounds = 1;
  /// JSON-RPC error codes that are refusals the server documents: counted
  /// in the report's `attacks`, not as errors.
  std::vector<std::int64_t> expect_rpc_errors;
  /// Close codes from the server that end a round as documented.
  std::vector<std::int64_t> expect_close_codes;

  /// The name used in scenarios and reports ("input_flood", ...).
  std::string name() const;
  /// A process is started (input_flood, slow_close).
  bool runs_process() const {
    return what == kind::input_flood || what == kind::slow_close;
  }
};

/// What one client session does: the process it runs, how it reads, and
/// what it expects. One template may be shared by many sessions.
struct session_spec {
  /// Label in the report (a seed test's `id`, a mix entry's `name`).
  std::string name = "default";
  /// Relative share of the phase's sessions (mix entries only).
  std::uint32_t weight = 1;
  /// `raw`: plain WebSocket peer (websocketd): no JSON-RPC, count messages
  /// until the server closes.
  bool raw = false;
  /// Shell command, or `argv` (exactly one of both is set unless raw).
  std::optional<std::string> command;
  std::vector<std::string> argv;
  /// "lines" or "chunks".
  std::string framing = "lines";
  /// "block" or "drop_oldest".
  std::string on_overflow = "block";
  /// Sent to the child's stdin (with eof) right after `process.started`.
  std::optional<std::string> stdin_data;
  /// Number of `execute`s run one after another in the session.
  std::uint32_t repeat = 1;
  /// Pause between one `process.completed` and the next `execute`: a
  /// client that stays within the server's request rate.
  std::uint32_t repeat_delay_ms = 0;
  /// Server-side wall-clock limit in seconds, passed as `timeout`.
  std::optional<double> timeout_s;
  /// Pause after reading each frame (a slow consumer).
  std::uint32_t slow_reader_ms = 0;
  /// Once this many output bytes arrived, stop reading for `stall_ms`.
  std::optional<std::uint64_t> stall_after_bytes;
  std::uint32_t stall_ms = 0;
  /// Drop the TCP connection without a Close frame after every this many
  /// output bytes received on one connection.
  std::optional<std::uint64_t> drop_after_bytes;
  /// Drop with this probability after each output frame.
  double drop_probability = 0;
  /// Upper bound of drops per session, so every storm ends.
  std::uint32_t max_drops = 10;
  /// Reconnect and `resume` after a drop (else the session just ends).
  bool resume = true;
  /// Wait before reconnecting.
  std::uint32_t reconnect_delay_ms = 0;
  /// Send `ack` (without id) every this many output frames; 0 never.
  std::uint32_t ack_every = 0;
  /// Send `control` CANCEL this long after `process.started`.
  std::optional<std::uint32_t> cancel_after_ms;
  /// Every pattern must appear in the output (stdout and stderr).
  std::vector<std::string> expected_patterns;
  /// Byte-exact stdout check.
  verify_spec verify;
  /// `process.completed` must report this exit code.
  std::optional<std::int64_t> expected_exit_code;
  /// Raw mode: number of messages each connection must receive.
  std::optional<std::uint64_t> expected_messages;
  /// Client-side limit for the whole session; then it counts as an error.
  std::uint32_t timeout_ms = 60000;
  /// A hostile client instead of a scenario session, when set.
  attack_spec attack;
};

/// A batch of sessions run together; phases run one after another.
struct phase_spec {
  std::string name;
  /// Sessions started in total.
  std::uint32_t sessions = 1;
  /// Most sessions open at once.
  std::uint32_t concurrency = 1;
  /// The first `concurrency` sessions start spread over this time.
  std::uint32_t ramp_up_ms = 0;
  /// The phase is cut off after this long; unfinished sessions are errors.
  std::uint32_t duration_cap_ms = 300000;
  /// Errors tolerated before the phase fails.
  std::uint64_t max_errors = 0;
  /// Session templates; session i uses them in proportion to `weight`.
  std::vector<session_spec> mix;
};

/// The round trip (`execute` to `process.completed`) of one session
/// template compared across phases with a baseline phase: reported, with
/// whether it stayed within the bounds, and never failing a run.
struct round_trip_spec {
  std::string template_name;
  std::string baseline_phase;
  std::optional<double> max_p50_ms;
  std::optional<double> max_p99_ms;
};

/// A whole scenario file.
struct scenario {
  std::string name;
  std::string description;
  /// ws://HOST:PORT/PATH; the command line may override it.
  std::string url = "ws://127.0.0.1:8003/ws/mcp";
  /// Seed of the random drops, so runs are repeatable.
  std::uint64_t seed = 1;
  std::vector<phase_spec> phases;
  std::optional<round_trip_spec> round_trip;
};

/// Parses a session's `attack` object; the expected refusals default to
/// what the server documents for the attack. Throws scenario_error naming
/// the field under `path`.
attack_spec parse_attack_spec(const boost::json::value& v,
                              const std::string& path);

/// Parses any of the three accepted formats: a scenario (`phases`), a flat
/// stress suite (`tests`) or a categorized one (`categories`). Throws
/// scenario_error naming the field.
scenario parse_scenario(const boost::json::value& doc);

/// Parses JSON text; syntax errors are scenario_errors too.
scenario parse_scenario_text(std::string_view text);

/// Reads and parses a file.
scenario load_scenario(const std::string& path);

/// Multiplies every phase's `sessions` and `concurrency` by `factor`
/// (at least 1 each), for reduced smoke runs.
void scale_scenario(scenario& sc, double factor);

/// Picks the template of the `index`-th session of a phase: a weighted
/// round robin, deterministic.
const session_spec& pick_template(const phase_spec& ph, std::uint32_t index);

/// Host, port and target of a ws:// URL (or of the http:// /metrics URL).
struct ws_url {
  std::string host;
  std::uint16_t port = 80;
  std::string target = "/";
};

/// Parses `ws://HOST[:PORT][/PATH]`; throws scenario_error ("url: ...").
ws_url parse_ws_url(std::string_view url);

/// Parses `http://HOST[:PORT][/PATH]`; throws scenario_error naming `field`.
ws_url parse_http_url(std::string_view url, const std::string& field);

} // namespace actorexec::loadtest
