#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace actorexec::net {

/// Lets a repeating event be logged at most once per interval and counts
/// the occurrences it held back, so that a condition hit thousands of times
/// a second (EMFILE at accept, a connection flood at a limit) costs one log
/// line per interval instead of filling the disk. Not thread-safe: each
/// user keeps its own on one strand.
class log_throttle {
public:
  using clock = std::chrono::steady_clock;

  explicit log_throttle(clock::duration interval) : interval_(interval) {}

  /// Records one occurrence at `now`. Returns how many were held back since
  /// the last one logged when this one should be logged, nothing when it
  /// should be held back too.
  std::optional<std::uint64_t> admit(clock::time_point now) {
    if (logged_once_ && now - last_ < interval_) {
      ++held_back_;
      return std::nullopt;
    }
    logged_once_ = true;
    last_ = now;
    auto held = held_back_;
    held_back_ = 0;
    return held;
  }

private:
  clock::duration interval_;
  clock::time_point last_{};
  bool logged_once_ = false;
  std::uint64_t held_back_ = 0;
};

} // namespace actorexec::net
