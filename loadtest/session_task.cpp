// One scenario session: what it runs, how it reads, drops and resumes, and
// what it checks. The transport is ws_connection.cpp, the JSON-RPC side
// rpc_client.cpp.

#include "loadtest/session_task.hpp"

#include "loadtest/phase_runner.hpp"
#include "protocol/base64.hpp"

namespace actorexec::loadtest {

namespace {

/// Output kept per execute for pattern checks.
constexpr std::size_t capture_limit = 1 << 20;

} // namespace

session_task::session_task(phase_runner& ph, const session_spec& spec,
                           std::uint32_t idx)
    : session_base(ph, spec, idx), rpc_(ph.scanner, ph.result, *this),
      read_timer_(ph.loop), cancel_timer_(ph.loop), reconnect_timer_(ph.loop),
      repeat_timer_(ph.loop) {}

// -- session_task: connection ------------------------------------------------

void session_task::on_open() {
  conn_bytes_ = 0;
  conn_open_ = true;
  ph_.connection_opened();
  if (first_connect_) {
    first_connect_ = false;
    sample(&latencies::connect, ms_between(connect_started_, clock::now()));
    // The protocol lets a client send before reading `connected`, which
    // takes one round trip out of the latency.
    if (!spec_.raw)
      send_execute();
  } else {
    rpc_.resume();
  }
}

/// One whole message; false when reading must pause or stop.
bool session_task::on_message(std::string_view payload) {
  res().wire_bytes += payload.size();
  if (spec_.raw)
    handle_raw(payload.size());
  else
    rpc_.handle(payload);
  // A frame may have ended the session, dropped the connection or started
  // the close handshake, which reads on its own.
  if (!conn_ || closing_)
    return false;
  auto delay = spec_.slow_reader_ms + read_delay_ms_;
  read_delay_ms_ = 0;
  if (delay == 0)
    return true;
  read_timer_.start(std::chrono::milliseconds(delay),
                    [self = self_as<session_task>(), c = conn_] {
                      if (self->conn_ == c)
                        c->resume_reading();
                    });
  return false;
}

/// The connection ended: the server's Close or a loss end the session
/// (for raw mode, as planned), and so does the end of our own Close.
void session_task::on_end(const ws_end& end) {
  forget_connection();
  switch (end.what) {
  case ws_end::kind::closed:
    if (!end.why.empty())
      error("close: " + end.why);
    return finish(true);
  case ws_end::kind::peer_closed:
    if (spec_.raw)
      return raw_done();
    ++res().close_codes[end.code];
    return finish(false);
  case ws_end::kind::lost:
    if (spec_.raw)
      return raw_done();
    return connection_failed(end);
  default:
    return connection_failed(end);
  }
}

/// websocketd ends a connection when its child exits: that is success.
void session_task::raw_done() {
  sample(&latencies::completion, ms_between(connect_started_, clock::now()));
  if (spec_.expected_messages && raw_messages_ != *spec_.expected_messages)
    expectation_failed("expected " + std::to_string(*spec_.expected_messages) +
                       " messages, got " + std::to_string(raw_messages_));
  finish(true);
}

void session_task::send(std::string text) {
  // Between a drop and its resume nothing is sent: acks are re-sent later
  // anyway.
  send_text(text);
}

// -- session_task: protocol --------------------------------------------------

void session_task::send_execute() {
  ++exec_generation_;
  exec_sent_ = clock::now();
  got_started_ = false;
  got_output_ = false;
  captured_.clear();
  verifier_.reset();
  if (spec_.verify.what != verify_spec::kind::none)
    verifier_.emplace(spec_.verify);
  rpc_.execute(spec_);
}

/// The next of `repeat` executes, after `repeat_delay_ms` (a client that
/// keeps within the server's request rate); its round trip starts when it
/// is sent.
void session_task::next_execute() {
  if (spec_.repeat_delay_ms == 0)
    return send_execute();
  repeat_timer_.start(std::chrono::milliseconds(spec_.repeat_delay_ms),
                      [self = self_as<session_task>()] {
                        if (!self->done_)
                          self->send_execute();
                      });
}

void session_task::handle_raw(std::size_t n) {
  auto now = clock::now();
  if (raw_messages_++ == 0) {
    auto ms = ms_between(connect_started_, now);
    sample(&latencies::first_output, ms);
    sample(&latencies::connect_to_first_output, ms);
  }
  ++res().frames;
  res().bytes += n;
}

void session_task::on_response(std::optional<request_kind> kind,
                               const rpc_fields& f) {
  if (f.error) {
    // Empty also when `error` is not an object.
    std::int64_t code = f.error_code.value_or(0);
    // A CANCEL that crossed the process's own exit is expected to miss.
    if (kind == request_kind::control && code == -32002)
      return;
    ++res().rpc_errors[code];
    if (kind == request_kind::execute || kind == request_kind::resume) {
      if (kind == request_kind::resume)
        ++res().resumes_failed;
      finish(false);
    }
    return;
  }
  if (kind != request_kind::resume)
    return;
  ++res().resumes_ok;
  sample(&latencies::resume, ms_between(dropped_at_, clock::now()));
}

void session_task::on_started() {
  if (got_started_)
    return;
  got_started_ = true;
  process_live_ = true;
  ph_.process_started();
  sample(&latencies::started, ms_between(exec_sent_, clock::now()));
  if (spec_.stdin_data)
    rpc_.request(request_kind::input, "input",
                 {{"data", *spec_.stdin_data}, {"eof", true}});
  if (spec_.cancel_after_ms) {
    cancel_timer_.start(
        std::chrono::milliseconds(*spec_.cancel_after_ms),
        [self = self_as<session_task>(), gen = exec_generation_] {
          if (self->done_ || gen != self->exec_generation_ ||
              !self->process_live_)
            return;
          self->rpc_.request(request_kind::control, "control",
                             {{"type", "CANCEL"}});
        });
  }
}

void session_task::on_output(const rpc_fields& f, bool replayed) {
  if (!f.data.is_string)
    return error("output without data");
  std::string_view data = f.data.text;
  std::string decoded;
  if (f.encoding.is_string && f.encoding.text == "base64") {
    // What protocol::piece_bytes does, without copying the text first.
    decoded = protocol::base64_decode(data).value_or(std::string{});
    data = decoded;
  }
  auto now = clock::now();
  if (!got_output_) {
    got_output_ = true;
    sample(&latencies::first_output, ms_between(exec_sent_, now));
    sample(&latencies::connect_to_first_output,
           ms_between(connect_started_, now));
  }
  ++res().frames;
  res().bytes += data.size();
  if (replayed)
    res().replay_bytes += data.size();
  bool is_stdout = f.type.is_string && f.type.text == "stdout";
  if (verifier_ && is_stdout)
    verifier_->feed(data);
  if (!spec_.expected_patterns.empty() && captured_.size() < capture_limit)
    captured_.append(data.substr(0, capture_limit - captured_.size()));
  output_bytes_ += data.size();
  conn_bytes_ += data.size();
  if (spec_.ack_every > 0 && ++frames_since_ack_ >= spec_.ack_every) {
    frames_since_ack_ = 0;
    rpc_.ack();
  }
  if (spec_.stall_after_bytes && !stalled_ &&
      output_bytes_ >= *spec_.stall_after_bytes) {
    stalled_ = true;
    read_delay_ms_ = spec_.stall_ms;
  }
  maybe_drop();
}

void session_task::on_completed(const rpc_fields& f) {
  if (process_live_) {
    process_live_ = false;
    ph_.process_ended();
  }
  cancel_timer_.cancel();
  ++res().executes_completed;
  sample(&latencies::completion, ms_between(exec_sent_, clock::now()));
  auto exit_code = f.exit_code;
  if (spec_.expected_exit_code && exit_code != spec_.expected_exit_code)
    expectation_failed(
        "exit code " + (exit_code ? std::to_string(*exit_code) : "null") +
        ", expected " + std::to_string(*spec_.expected_exit_code));
  if (verifier_) {
    if (!verifier_->finish()) {
      verify_ok_ = false;
      expectation_failed("stdout: " + verifier_->failure());
    }
    verified_bytes_ += verifier_->matched();
  }
  for (const auto& p : spec_.expected_patterns)
    if (captured_.find(p) == std::string::npos)
      expectation_failed("pattern not found: \"" + p + "\"");
  if (++executes_done_ < spec_.repeat)
    return next_execute();
  closing_ = true;
  if (!conn_)
    return finish(true);
  conn_->close(ws_close_timeout);
}

// -- session_task: drops and the end -----------------------------------------

void session_task::maybe_drop() {
  if (!conn_ || closing_ || drops_ >= spec_.max_drops)
    return;
  bool by_bytes =
      spec_.drop_after_bytes && conn_bytes_ >= *spec_.drop_after_bytes;
  bool by_chance = false;
  if (spec_.drop_probability > 0) {
    std::uniform_real_distribution<double> dist{0.0, 1.0};
    by_chance = dist(ph_.rng) < spec_.drop_probability;
  }
  if (by_bytes || by_chance)
    drop_connection();
}

/// Ends the TCP connection with a reset and no Close frame: to the server
/// this is a connection loss, after which the session lingers, detached.
void session_task::drop_connection() {
  ++drops_;
  ++res().drops;
  conn_->reset();
  forget_connection();
  read_timer_.cancel();
  if (!spec_.resume) {
    if (process_live_) {
      process_live_ = false;
      ph_.process_ended();
    }
    return finish(true);
  }
  dropped_at_ = clock::now();
  reconnect_timer_.start(std::chrono::milliseconds(spec_.reconnect_delay_ms),
                         [self = self_as<session_task>()] {
                           if (!self->done_)
                             self->connect();
                         });
}

void session_task::on_finish(bool ok) {
  if (process_live_) {
    process_live_ = false;
    ph_.process_ended();
  }
  read_timer_.cancel();
  cancel_timer_.cancel();
  reconnect_timer_.cancel();
  repeat_timer_.cancel();
  if (ok && verifier_ && verify_ok_) {
    ++res().sessions_verified;
    res().bytes_verified += verified_bytes_;
  }
}

} // namespace actorexec::loadtest
