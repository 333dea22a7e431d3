#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "loadtest/scenario.hpp"

namespace actorexec::loadtest {

/// One sample of the server process, from /proc or its /metrics.
struct server_sample {
  /// Seconds since the run started.
  double t_s = 0;
  std::uint64_t rss_kb = 0;
  std::uint64_t hwm_kb = 0;
  std::uint64_t fds = 0;
  /// User plus system CPU time of the server so far.
  double cpu_s = 0;
};

/// Latency samples of one phase, in milliseconds.
struct latencies {
  /// TCP connect start to WebSocket handshake done.
  std::vector<double> connect;
  /// `execute` sent to `process.started` received.
  std::vector<double> started;
  /// `execute` sent to the first output frame (raw mode: connect start).
  std::vector<double> first_output;
  /// TCP connect start to the first output frame, comparable across peers.
  std::vector<double> connect_to_first_output;
  /// `execute` sent to `process.completed` (raw mode: until the close).
  std::vector<double> completion;
  /// Connection dropped to the `resume` response.
  std::vector<double> resume;
};

/// What the hostile sessions of one attack did in a phase, and how the
/// server answered: the refusals and closes it documents count here, not as
/// errors.
struct attack_result {
  /// Rounds that ended as the server documents.
  std::uint64_t rounds = 0;
  /// Requests, frames or pings sent, and their WebSocket payload bytes.
  std::uint64_t sent = 0;
  std::uint64_t sent_bytes = 0;
  /// Responses (results and refusals alike) and pongs that came back.
  std::uint64_t answered = 0;
  /// Expected JSON-RPC refusals, by code.
  std::map<std::int64_t, std::uint64_t> refused;
  /// Expected closes by the server, by code.
  std::map<int, std::uint64_t> closed;
  /// Connections the server reset after our Close (slow_close).
  std::uint64_t resets = 0;
};

/// What one phase measured.
struct phase_result {
  std::string name;
  std::uint64_t sessions_planned = 0;
  std::uint64_t sessions_started = 0;
  /// Sessions that ended as planned (every execute completed, clean close).
  std::uint64_t sessions_completed = 0;
  std::uint64_t sessions_failed = 0;
  std::uint64_t executes_completed = 0;
  double wall_s = 0;
  /// Offsets of the phase within the run, for plots.
  double start_s = 0;
  double end_s = 0;
  latencies lat;
  /// The same samples per session template, when the phase has a mix.
  std::map<std::string, latencies> by_template;
  /// Output frames (raw mode: messages) and the child bytes they carried.
  std::uint64_t frames = 0;
  std::uint64_t bytes = 0;
  /// Every text frame received, as it was on the wire.
  std::uint64_t wire_bytes = 0;
  /// Errors by JSON-RPC code, by WebSocket close code (closes the client
  /// did not ask for) and by kind (timeout, connect, seq, ...).
  std::map<std::int64_t, std::uint64_t> rpc_errors;
  std::map<int, std::uint64_t> close_codes;
  std::map<std::string, std::uint64_t> other_errors;
  std::uint64_t gap_events = 0;
  std::uint64_t gap_dropped_bytes = 0;
  std::uint64_t gap_dropped_frames = 0;
  std::uint64_t drops = 0;
  std::uint64_t resumes_ok = 0;
  std::uint64_t resumes_failed = 0;
  /// Events replayed after resumes (seq at or below the server's last_seq
  /// in the resume response) and the child bytes they carried.
  std::uint64_t replay_frames = 0;
  std::uint64_t replay_bytes = 0;
  std::uint64_t sessions_verified = 0;
  std::uint64_t bytes_verified = 0;
  std::uint64_t expectation_failures = 0;
  /// The first few failures, spelled out.
  std::vector<std::string> failure_messages;
  /// Most processes running at once (started, not yet completed).
  std::uint64_t peak_live_processes = 0;
  std::uint64_t peak_open_connections = 0;
  std::uint64_t max_errors = 0;
  /// CPU time the runner itself spent in this phase.
  double client_cpu_s = 0;
  /// The phase's session templates, by name.
  std::vector<std::string> templates;
  /// Hostile sessions, by attack (`input_flood`, ...).
  std::map<std::string, attack_result> attacks;

  /// Total of all error counters.
  std::uint64_t errors() const;
  /// Errors within max_errors and every expectation met.
  bool passed() const;
  /// Records an expectation failure, keeping the first messages.
  void expectation_failed(std::string message);
};

/// Everything one run of the runner measured.
struct run_report {
  std::string scenario;
  std::string url;
  std::vector<phase_result> phases;
  /// 0 when no server pid was given.
  int server_pid = 0;
  /// Where `server` came from: "proc" (--server-pid), "metrics" (--metrics
  /// URL), or empty when the server was not sampled.
  std::string server_source;
  std::string metrics_url;
  std::vector<server_sample> server;
  /// Samples that could not be taken (a failed /metrics fetch).
  std::uint64_t server_sample_errors = 0;
  /// The scenario's round-trip comparison, if it asks for one.
  std::optional<round_trip_spec> round_trip;
  double wall_s = 0;
  double client_cpu_user_s = 0;
  double client_cpu_sys_s = 0;
  bool passed() const;
};

/// The machine-readable report (`--report FILE`).
std::string to_json(const run_report& r);

/// The human summary table.
void print_summary(std::ostream& out, const run_report& r);

} // namespace actorexec::loadtest
