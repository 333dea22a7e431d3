#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>

namespace actorexec {

/// The child output behind each of a session's latest events removed from
/// its log (released, or acknowledged), so that a resume or a watcher from
/// before the retained events can say how many bytes it missed.
///
/// A client that never acks can have lost everything written to its socket
/// and not yet read, several megabytes of kernel buffers on both sides: tens
/// of thousands of short lines. So the history covers up to `max_bytes` of
/// its encoding rather than a count of events, and the encoding is small:
/// runs of events of equal size, each run two LEB128 numbers (size, count).
/// Output of lines of one length (a counter, a progress bar) takes a few
/// bytes whatever its length; varied lines about two bytes each.
class released_history {
public:
  /// Most bytes the encoded runs take; beyond it the oldest runs go.
  static constexpr std::size_t max_bytes = 64 * 1024;

  /// Remembers the released event `seq`, which stands for `produced` bytes
  /// of output, `through` of them since the start. An event that does not
  /// follow the last one remembered starts the history over.
  void push(std::uint64_t seq, std::uint64_t produced, std::uint64_t through);

  /// Output bytes up to and including event `seq`, if it is remembered.
  std::optional<std::uint64_t> through(std::uint64_t seq) const;

  /// The oldest event remembered, if any.
  std::optional<std::uint64_t> first_seq() const;

  /// Output bytes before the oldest event remembered (0 when empty).
  std::uint64_t before() const noexcept { return before_; }

  /// Number of events remembered.
  std::size_t size() const noexcept { return count_; }

  /// Bytes the encoded runs take.
  std::size_t encoded_bytes() const noexcept { return runs_.size(); }

private:
  /// Moves the open run into the encoded runs.
  void close_run();
  /// Forgets the oldest encoded run.
  void pop_run();

  /// Closed runs, oldest first: (size, count) as LEB128 each.
  std::deque<char> runs_;
  /// The newest run, still growing (not in `runs_`): `open_count` events of
  /// `open_size` bytes each.
  std::uint64_t open_size_ = 0;
  std::uint64_t open_count_ = 0;
  std::size_t count_ = 0;
  /// One past the newest event.
  std::uint64_t end_ = 0;
  /// Output bytes before the oldest event remembered.
  std::uint64_t before_ = 0;
};

} // namespace actorexec
