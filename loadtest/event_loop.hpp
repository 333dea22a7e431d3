#pragma once

#include <chrono>
#include <functional>
#include <memory>

namespace actorexec::loadtest {

/// The event loop every session of a phase runs on, on the calling thread:
/// the runner then costs one core at most and its CPU time is easy to
/// attribute. Asio stays behind it (event_loop.cpp, ws_connection.cpp), so
/// the session code compiles without Asio's templates.
class event_loop {
public:
  event_loop();
  ~event_loop();
  event_loop(const event_loop&) = delete;
  event_loop& operator=(const event_loop&) = delete;

  /// Runs handlers until no work is left.
  void run();
  /// Runs `fn` on the loop after the current handler.
  void post(std::function<void()> fn);

  /// The Asio side, for the translation units that hold sockets.
  struct impl;
  impl& get() { return *impl_; }

private:
  std::unique_ptr<impl> impl_;
};

/// A one-shot timer on an event_loop. Starting it again or canceling it
/// drops the callback not yet run; a callback is never run after cancel().
class loop_timer {
public:
  explicit loop_timer(event_loop& loop);
  ~loop_timer();
  loop_timer(const loop_timer&) = delete;
  loop_timer& operator=(const loop_timer&) = delete;

  /// Calls `fn` on the loop once `after` has passed.
  void start(std::chrono::milliseconds after, std::function<void()> fn);
  void cancel();

private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

} // namespace actorexec::loadtest
