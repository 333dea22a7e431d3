#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "loadtest/event_loop.hpp"
#include "loadtest/report.hpp"
#include "loadtest/rpc_client.hpp"
#include "loadtest/scenario.hpp"
#include "loadtest/verifier.hpp"
#include "loadtest/ws_connection.hpp"

namespace actorexec::loadtest {

class phase_runner;

/// One client session: connects, executes (repeatedly), reads with the
/// scenario's behaviour, drops and resumes, and checks expectations.
class session_task : public std::enable_shared_from_this<session_task>,
                     public ws_connection::handler,
                     public rpc_client::owner {
public:
  using clock = std::chrono::steady_clock;

  session_task(phase_runner& ph, const session_spec& spec, std::uint32_t idx);

  void start();
  /// Ends the session as failed, counting `why` as an error.
  void abort(const std::string& why);

private:
  phase_result& res();

  void connect();
  void on_open() override;
  bool on_message(std::string_view payload) override;
  void on_end(const ws_end& end) override;
  void raw_done();
  void connection_gone();
  void send(std::string text) override;

  void send_execute();
  void handle_raw(std::size_t n);
  void on_started() override;
  void on_output(const rpc_fields& f, bool replayed) override;
  void on_completed(const rpc_fields& f) override;
  void on_response(std::optional<request_kind> kind,
                   const rpc_fields& f) override;
  void maybe_drop();
  void drop_connection();
  void finish(bool ok);
  /// Files a latency sample for the phase and, in a mix, for the template.
  void sample(std::vector<double> latencies::*metric, double ms);
  void error(const std::string& kind) { ++res().other_errors[kind]; }
  void expectation_failed(const std::string& what);

  phase_runner& ph_;
  const session_spec& spec_;
  std::uint32_t index_;
  rpc_client rpc_;
  std::shared_ptr<ws_connection> conn_;
  /// conn_ finished its upgrade (it counts in the phase's open connections).
  bool conn_open_ = false;
  /// Output bytes received on conn_ (for drop_after_bytes).
  std::uint64_t conn_bytes_ = 0;
  loop_timer timeout_timer_;
  loop_timer read_timer_;
  loop_timer cancel_timer_;
  loop_timer reconnect_timer_;
  bool done_ = false;
  bool closing_ = false;
  bool first_connect_ = true;
  clock::time_point connect_started_;
  /// Per-execute state.
  std::uint32_t executes_done_ = 0;
  std::uint32_t exec_generation_ = 0;
  clock::time_point exec_sent_;
  bool got_started_ = false;
  bool got_output_ = false;
  bool process_live_ = false;
  std::optional<verifier> verifier_;
  std::string captured_;
  bool verify_ok_ = true;
  std::uint64_t verified_bytes_ = 0;
  /// Reading behaviour.
  std::uint64_t output_bytes_ = 0;
  std::uint32_t frames_since_ack_ = 0;
  bool stalled_ = false;
  std::uint32_t read_delay_ms_ = 0;
  /// Drops and resumes.
  std::uint32_t drops_ = 0;
  clock::time_point dropped_at_;
  /// Raw mode: messages received.
  std::uint64_t raw_messages_ = 0;
};

} // namespace actorexec::loadtest
