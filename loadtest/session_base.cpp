#include "loadtest/session_base.hpp"

#include "loadtest/phase_runner.hpp"

namespace actorexec::loadtest {

session_base::session_base(phase_runner& ph, const session_spec& spec,
                           std::uint32_t idx)
    : ph_(ph), spec_(spec), index_(idx), timeout_timer_(ph.loop) {}

phase_result& session_base::res() {
  return ph_.result;
}

void session_base::start() {
  ++res().sessions_started;
  timeout_timer_.start(std::chrono::milliseconds(spec_.timeout_ms),
                       [self = shared_from_this()] { self->abort("timeout"); });
  connect();
}

void session_base::connect() {
  connect_started_ = clock::now();
  conn_ = open_ws_connection(ph_.loop, ph_.target, ph_.mask_rng, *this);
}

void session_base::forget_connection() {
  conn_.reset();
  if (conn_open_) {
    conn_open_ = false;
    ph_.connection_closed();
  }
}

void session_base::connection_failed(const ws_end& end) {
  const char* what = "connection lost: ";
  if (end.what == ws_end::kind::connect_failed)
    what = "connect: ";
  else if (end.what == ws_end::kind::upgrade_failed)
    what = "handshake: ";
  else if (end.what == ws_end::kind::write_failed)
    what = "write: ";
  error(what + end.why);
  finish(false);
}

void session_base::send_text(const std::string& text) {
  if (conn_)
    conn_->send_text(text);
}

void session_base::abort(const std::string& why) {
  if (done_)
    return;
  error(why);
  finish(false);
}

void session_base::finish(bool ok) {
  if (done_)
    return;
  done_ = true;
  timeout_timer_.cancel();
  on_finish(ok);
  if (conn_) {
    conn_->discard();
    forget_connection();
  }
  if (ok)
    ++res().sessions_completed;
  else
    ++res().sessions_failed;
  ph_.session_done(index_);
}

void session_base::sample(std::vector<double> latencies::*metric, double ms) {
  (res().lat.*metric).push_back(ms);
  if (ph_.spec.mix.size() > 1)
    (res().by_template[spec_.name].*metric).push_back(ms);
}

void session_base::error(const std::string& kind) {
  ++res().other_errors[kind];
}

void session_base::expectation_failed(const std::string& what) {
  res().expectation_failed(spec_.name + "#" + std::to_string(index_) + ": " +
                           what);
}

} // namespace actorexec::loadtest
