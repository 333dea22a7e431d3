// Hostile clients (issue 25). Each round: connect, attack, and end the way
// the server documents for that attack; every count and wait is bounded by
// the template (count, hold_ms, rounds) and the session's timeout_ms.

#include "loadtest/attack_session.hpp"

#include <algorithm>

#include "loadtest/phase_runner.hpp"

namespace actorexec::loadtest {

namespace {

using kind = attack_spec::kind;

/// Bytes a paced flood keeps queued: about one large frame on its way and
/// the next ready, so the runner holds little however many it sends.
constexpr std::size_t flood_window = 1 << 20;

/// Payload of each WebSocket ping of a ping flood.
constexpr std::string_view ping_payload = "actorexec-load";

/// `{"jsonrpc":"2.0","id":1,"method":"ping","params":[0,1,...,9,0,...]}`:
/// one digit per number, so 300,000 numbers stay under the server's 1 MiB
/// message limit while each costs it a JSON value to build.
std::string number_frame(std::uint32_t numbers) {
  std::string out = R"({"jsonrpc":"2.0","id":1,"method":"ping","params":[)";
  out.reserve(out.size() + 2 * std::size_t{numbers} + 2);
  for (std::uint32_t i = 0; i < numbers; ++i) {
    if (i > 0)
      out += ',';
    out += static_cast<char>('0' + i % 10);
  }
  return out + "]}";
}

/// An input's params: `bytes` of plain text, no escapes.
std::string input_params(std::uint32_t bytes) {
  return R"({"data":")" + std::string(bytes, 'x') + R"("})";
}

} // namespace

attack_session::attack_session(phase_runner& ph, const session_spec& spec,
                               std::uint32_t idx)
    : session_base(ph, spec, idx), attack_(spec.attack), hold_timer_(ph.loop) {
  rpc_.emplace(ph.scanner, ph.result, *this);
  if (attack_.what == kind::input_flood)
    frame_ = input_params(attack_.bytes);
  else if (attack_.what == kind::frame_flood)
    frame_ = number_frame(attack_.numbers);
  else if (attack_.what == kind::reply_flood)
    frame_ = R"({"id":1,"method":"ping"})";
}

attack_result& attack_session::counts() {
  return res().attacks[attack_.name()];
}

bool attack_session::in(const std::vector<std::int64_t>& codes,
                        std::int64_t code) const {
  return std::find(codes.begin(), codes.end(), code) != codes.end();
}

void attack_session::send(std::string text) {
  send_text(text);
}

// -- the attacks -------------------------------------------------------------

void attack_session::on_open() {
  conn_open_ = true;
  ph_.connection_opened();
  switch (attack_.what) {
  case kind::input_flood:
  case kind::slow_close:
    return rpc_->execute(spec_);
  case kind::reply_flood:
    // Nothing is read until every request is queued and hold_ms passed.
    conn_->hold_reading();
    send_all();
    return read_after_hold();
  case kind::frame_flood:
    return feed();
  case kind::ping_flood:
    return send_all();
  case kind::none:
    return;
  }
}

/// Small frames: all of them at once, whatever the server reads.
void attack_session::send_all() {
  while (sent_ < attack_.count)
    send_one();
}

/// Large frames: the next ones once the queue is short, so the runner's
/// memory stays flat; the server's reading is the pace, never its answers.
void attack_session::feed() {
  while (conn_ && !closing_ && sent_ < attack_.count &&
         conn_->queued_bytes() < flood_window)
    send_one();
  if (attack_.what == kind::input_flood && sent_ == attack_.count &&
      !cancel_sent_ && conn_) {
    // Behind every input: the child dies, and the inputs still waiting for
    // its stdin are answered (-32005).
    cancel_sent_ = true;
    rpc_->request(request_kind::control, "control", {{"type", "CANCEL"}});
  }
}

void attack_session::send_one() {
  ++sent_;
  auto& c = counts();
  ++c.sent;
  if (attack_.what == kind::ping_flood) {
    c.sent_bytes += ping_payload.size();
    return conn_->send_ping(ping_payload);
  }
  if (attack_.what == kind::input_flood) {
    c.sent_bytes += frame_.size();
    rpc_->request_text(request_kind::input, "input", frame_);
    return;
  }
  c.sent_bytes += frame_.size();
  conn_->send_text(frame_);
}

void attack_session::read_after_hold() {
  hold_timer_.start(std::chrono::milliseconds(attack_.hold_ms),
                    [self = self_as<attack_session>(), c = conn_] {
                      if (self->conn_ == c)
                        c->resume_reading();
                    });
}

/// After `count` output frames: a Close, and nothing read for hold_ms. The
/// server must end the session and let the connection go by itself (its
/// answer, or a reset once it cannot deliver it); reading again then finds
/// which.
void attack_session::slow_close() {
  closing_ = true;
  conn_->hold_reading();
  conn_->close(std::chrono::milliseconds(attack_.hold_ms) + ws_close_timeout);
  read_after_hold();
}

void attack_session::on_drained() {
  if (attack_.what == kind::frame_flood ||
      (attack_.what == kind::input_flood && started_))
    feed();
}

// -- what comes back ---------------------------------------------------------

bool attack_session::on_message(std::string_view payload) {
  res().wire_bytes += payload.size();
  rpc_->handle(payload);
  return conn_ && !closing_;
}

void attack_session::on_pong() {
  if (attack_.what == kind::ping_flood)
    answered(nullptr);
}

void attack_session::on_started() {
  started_ = true;
  process_live_ = true;
  ph_.process_started();
  if (attack_.what == kind::input_flood)
    feed();
}

void attack_session::on_output(const rpc_fields&, bool) {
  if (attack_.what == kind::slow_close && !closing_ &&
      ++outputs_ >= attack_.count)
    slow_close();
}

void attack_session::on_completed(const rpc_fields&) {
  completed_ = true;
  process_gone();
  maybe_round_done();
}

void attack_session::on_response(std::optional<request_kind> kind,
                                 const rpc_fields& f) {
  auto code = f.error_code.value_or(0);
  if (kind == request_kind::execute) {
    if (f.error) {
      ++res().rpc_errors[code];
      finish(false);
    }
    return;
  }
  if (kind == request_kind::control) {
    // The CANCEL may cross the child's own end.
    if (f.error && code != -32002)
      ++res().rpc_errors[code];
    return;
  }
  answered(&f);
}

/// One answer to the flood: a response (`f`) or a pong. A refusal the
/// server documents is counted as such; another error is an error.
void attack_session::answered(const rpc_fields* f) {
  ++answers_;
  auto& c = counts();
  ++c.answered;
  if (f != nullptr && f->error) {
    auto code = f->error_code.value_or(0);
    if (in(attack_.expect_rpc_errors, code))
      ++c.refused[code];
    else
      ++res().rpc_errors[code];
  }
  maybe_round_done();
}

void attack_session::maybe_round_done() {
  if (closing_ || !conn_ || answers_ < attack_.count)
    return;
  if (attack_.what == kind::input_flood && !completed_)
    return;
  close_round();
}

void attack_session::close_round() {
  closing_ = true;
  conn_->close(ws_close_timeout);
}

// -- the end of a round ------------------------------------------------------

void attack_session::on_end(const ws_end& end) {
  forget_connection();
  process_gone();
  hold_timer_.cancel();
  switch (end.what) {
  case ws_end::kind::closed:
    if (end.reset && attack_.what == kind::slow_close)
      ++counts().resets;
    else if (!end.why.empty())
      error("close: " + end.why);
    return round_ended();
  case ws_end::kind::peer_closed:
    if (!in(attack_.expect_close_codes, end.code)) {
      ++res().close_codes[end.code];
      return finish(false);
    }
    ++counts().closed[end.code];
    return round_ended();
  default:
    return connection_failed(end);
  }
}

void attack_session::round_ended() {
  ++counts().rounds;
  if (++round_ >= attack_.rounds)
    return finish(true);
  sent_ = answers_ = outputs_ = 0;
  started_ = cancel_sent_ = completed_ = closing_ = false;
  rpc_.emplace(ph_.scanner, ph_.result, *this);
  connect();
}

void attack_session::process_gone() {
  if (process_live_) {
    process_live_ = false;
    ph_.process_ended();
  }
}

void attack_session::on_finish(bool) {
  hold_timer_.cancel();
  process_gone();
}

} // namespace actorexec::loadtest
