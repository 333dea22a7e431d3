#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace actorexec {

/// A token bucket: holds at most `burst` tokens, gains `rate` tokens per
/// second, and each request takes one. Time comes from the caller (an
/// actor's clock), so tests drive it on virtual time. A rate of 0 disables
/// it: every request passes. Counts in nano-tokens, so refill is exact (no
/// floating-point drift) and a client that waits the reported time always
/// finds a token.
class token_bucket {
public:
  using time_point = std::chrono::steady_clock::time_point;

  token_bucket() = default;

  /// A full bucket at `now`. `burst` is at least 1; both are capped at a
  /// billion, so that nothing overflows.
  token_bucket(std::uint64_t rate, std::uint64_t burst, time_point now)
      : rate_(std::min(rate, max_value)),
        capacity_(std::clamp<std::uint64_t>(burst, 1, max_value) * unit),
        nano_tokens_(capacity_), last_(now) {}

  bool enabled() const { return rate_ > 0; }

  /// Takes a token at `now`. Returns 0 when one was there, else the
  /// milliseconds until one will be (at least 1); nothing is taken then.
  std::uint64_t take(time_point now) {
    if (!enabled())
      return 0;
    refill(now);
    if (nano_tokens_ >= unit) {
      nano_tokens_ -= unit;
      return 0;
    }
    // Nanoseconds until the missing part has dripped in, rounded up to ms.
    auto ns = (unit - nano_tokens_ + rate_ - 1) / rate_;
    return std::max<std::uint64_t>((ns + 999'999) / 1'000'000, 1);
  }

  /// Gives back a token `take` took (the request turned out to be exempt).
  void refund() {
    if (enabled())
      nano_tokens_ = std::min(capacity_, nano_tokens_ + unit);
  }

  /// Whole tokens left.
  std::uint64_t tokens() const { return nano_tokens_ / unit; }

private:
  static constexpr std::uint64_t unit = 1'000'000'000;
  static constexpr std::uint64_t max_value = 1'000'000'000;

  void refill(time_point now) {
    if (now <= last_)
      return;
    auto elapsed = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(now - last_)
            .count());
    last_ = now;
    auto missing = capacity_ - nano_tokens_;
    // One nanosecond adds `rate_` nano-tokens; compare before multiplying so
    // a long pause cannot overflow.
    if (elapsed >= (missing + rate_ - 1) / rate_)
      nano_tokens_ = capacity_;
    else
      nano_tokens_ += elapsed * rate_;
  }

  std::uint64_t rate_ = 0;
  std::uint64_t capacity_ = unit;
  std::uint64_t nano_tokens_ = 0;
  time_point last_{};
};

} // namespace actorexec
