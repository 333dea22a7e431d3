#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>

namespace actorexec {

/// The child output behind each of a session's latest events released
/// without the client's ack, so that a resume from before the retained
/// events can say how many bytes it missed.
///
/// Every session keeps one, and a busy one keeps it full: a thousand numbers
/// that are mostly line lengths. They are kept as LEB128 (one byte for a
/// line under 128 bytes) rather than as fixed-width integers.
class released_history {
public:
  /// Most events remembered.
  static constexpr std::size_t capacity = 1024;

  /// Remembers the released event `seq`, which stands for `produced` bytes
  /// of output, `through` of them since the start. An event that does not
  /// follow the last one remembered starts the history over.
  void push(std::uint64_t seq, std::uint64_t produced, std::uint64_t through);

  /// Output bytes up to and including event `seq`, if it is remembered.
  std::optional<std::uint64_t> through(std::uint64_t seq) const;

  /// Number of events remembered.
  std::size_t size() const noexcept { return count_; }

private:
  void pop_front();

  /// `produced` of each event, oldest first, as LEB128.
  std::deque<char> bytes_;
  std::size_t count_ = 0;
  /// One past the newest event, and the output through it.
  std::uint64_t end_ = 0;
  std::uint64_t through_ = 0;
};

} // namespace actorexec
