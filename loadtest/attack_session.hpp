#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "loadtest/event_loop.hpp"
#include "loadtest/rpc_client.hpp"
#include "loadtest/session_base.hpp"

namespace actorexec::loadtest {

/// A hostile client (issue 25): floods the server, or closes and stops
/// reading, the way attackers do, for `attack.rounds` rounds, each on a new
/// connection and so a new server session. What the hardened server answers
/// as documented (the template's expected refusals and closes, a reset
/// after a slow Close) is counted in the phase's `attacks`; anything else,
/// and a round that does not end before the session's timeout, is an error.
class attack_session : public session_base, public rpc_client::owner {
public:
  attack_session(phase_runner& ph, const session_spec& spec, std::uint32_t idx);

private:
  void on_open() override;
  bool on_message(std::string_view payload) override;
  void on_pong() override;
  void on_drained() override;
  void on_end(const ws_end& end) override;
  void send(std::string text) override;
  void on_started() override;
  void on_output(const rpc_fields& f, bool replayed) override;
  void on_completed(const rpc_fields& f) override;
  void on_response(std::optional<request_kind> kind,
                   const rpc_fields& f) override;
  void on_finish(bool ok) override;

  void send_all();
  void feed();
  void send_one();
  void read_after_hold();
  void answered(const rpc_fields* f);
  void maybe_round_done();
  void close_round();
  void slow_close();
  void round_ended();
  void process_gone();
  bool in(const std::vector<std::int64_t>& codes, std::int64_t code) const;
  attack_result& counts();

  const attack_spec& attack_;
  /// A new one per round: each round is a new server session.
  std::optional<rpc_client> rpc_;
  loop_timer hold_timer_;
  /// The flood's frame, built once (an input's params for input_flood).
  std::string frame_;
  std::uint32_t round_ = 0;
  /// This round's frames sent, answers and output frames received.
  std::uint32_t sent_ = 0;
  std::uint32_t answers_ = 0;
  std::uint32_t outputs_ = 0;
  bool started_ = false;
  bool cancel_sent_ = false;
  bool completed_ = false;
  bool process_live_ = false;
  /// Our Close is on its way: the round is over once it completes.
  bool closing_ = false;
};

} // namespace actorexec::loadtest
