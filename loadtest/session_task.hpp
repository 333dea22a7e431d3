#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "loadtest/event_loop.hpp"
#include "loadtest/rpc_client.hpp"
#include "loadtest/session_base.hpp"
#include "loadtest/verifier.hpp"

namespace actorexec::loadtest {

/// One scenario session: connects, executes (repeatedly), reads with the
/// scenario's behaviour, drops and resumes, and checks expectations.
class session_task : public session_base, public rpc_client::owner {
public:
  session_task(phase_runner& ph, const session_spec& spec, std::uint32_t idx);

private:
  void on_open() override;
  bool on_message(std::string_view payload) override;
  void on_end(const ws_end& end) override;
  void raw_done();
  void send(std::string text) override;

  void send_execute();
  void next_execute();
  void handle_raw(std::size_t n);
  void on_started() override;
  void on_output(const rpc_fields& f, bool replayed) override;
  void on_completed(const rpc_fields& f) override;
  void on_response(std::optional<request_kind> kind,
                   const rpc_fields& f) override;
  void maybe_drop();
  void drop_connection();
  void on_finish(bool ok) override;

  rpc_client rpc_;
  /// Output bytes received on conn_ (for drop_after_bytes).
  std::uint64_t conn_bytes_ = 0;
  loop_timer read_timer_;
  loop_timer cancel_timer_;
  loop_timer reconnect_timer_;
  loop_timer repeat_timer_;
  bool closing_ = false;
  bool first_connect_ = true;
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
