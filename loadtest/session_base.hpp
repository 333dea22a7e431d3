#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "loadtest/event_loop.hpp"
#include "loadtest/report.hpp"
#include "loadtest/scenario.hpp"
#include "loadtest/ws_connection.hpp"

namespace actorexec::loadtest {

class phase_runner;

/// Milliseconds from `a` to `b`.
inline double ms_between(std::chrono::steady_clock::time_point a,
                         std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

/// What every session of a phase has, whatever it does: its template, its
/// client-side timeout, its current connection, and how it ends and is
/// counted. A session is the handler of its connections.
class session_base : public std::enable_shared_from_this<session_base>,
                     public ws_connection::handler {
public:
  using clock = std::chrono::steady_clock;

  session_base(phase_runner& ph, const session_spec& spec, std::uint32_t idx);
  virtual ~session_base() = default;

  /// Arms the session's timeout and opens its first connection.
  void start();
  /// Ends the session as failed, counting `why` as an error.
  void abort(const std::string& why);

protected:
  phase_result& res();
  /// Opens a new connection; its events come to this session.
  void connect();
  /// Forgets conn_ (ended, reset or discarded) and counts it as closed.
  void forget_connection();
  /// The connection failed (connect, upgrade, read or write, `end.what`
  /// says which): counted as an error, and the session ends failed.
  void connection_failed(const ws_end& end);
  /// Sends a text frame, or nothing while no connection is up.
  void send_text(const std::string& text);
  /// Ends the session once: on_finish, the connection discarded, counted as
  /// completed (`ok`) or failed, and the phase told.
  void finish(bool ok);
  /// What a kind of session does when it ends (timers, counts of its own).
  virtual void on_finish(bool ok) = 0;

  /// Files a latency sample for the phase and, in a mix, for the template.
  void sample(std::vector<double> latencies::*metric, double ms);
  void error(const std::string& kind);
  void expectation_failed(const std::string& what);

  /// shared_from_this() as the derived type, for callbacks.
  template <class T>
  std::shared_ptr<T> self_as() {
    return std::static_pointer_cast<T>(shared_from_this());
  }

  phase_runner& ph_;
  const session_spec& spec_;
  std::uint32_t index_;
  std::shared_ptr<ws_connection> conn_;
  /// conn_ finished its upgrade (it counts in the phase's open connections).
  bool conn_open_ = false;
  bool done_ = false;
  clock::time_point connect_started_;

private:
  loop_timer timeout_timer_;
};

/// The session for the `index`-th slot of a phase with template `spec`: a
/// hostile one when the template has an `attack`, else a scenario session.
std::shared_ptr<session_base>
make_session(phase_runner& ph, const session_spec& spec, std::uint32_t index);

} // namespace actorexec::loadtest
