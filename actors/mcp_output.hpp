#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

#include "protocol/framer.hpp"
#include "protocol/messages.hpp"

namespace actorexec {

/// The output of one MCP process, addressed by byte offset: both streams
/// in the order they were read, each byte at one offset (`cursor`s are
/// offsets). A client reads pages from an offset; reading from an offset
/// releases everything before it (the client has it, or it would not know
/// the offset). Bounded: at `max_bytes` retained, `block` takes no more (the
/// process gets no credit, the child blocks in write(2)); `drop_oldest`
/// drops the oldest retained bytes and counts them where they were.
///
/// Unlike the seed protocol's event log (frames and seqs), a page here may
/// end inside what the child wrote in one go: MCP clients read bytes, not
/// frames. Plain class: the MCP session actor owns one per process.
class mcp_output {
public:
  mcp_output(std::uint64_t max_bytes, protocol::overflow_policy policy);

  /// Output read from the process.
  void append(protocol::stream_kind stream, std::string_view bytes);

  /// One page: the bytes of each stream from `from` on, at most `max_bytes`
  /// in all, never cutting a UTF-8 character of a stream in two when the
  /// page could end earlier; `next` is the offset after the page.
  struct page {
    std::string out;
    std::string err;
    std::uint64_t next = 0;
    /// Bytes dropped (drop_oldest) between `from` and `next`.
    std::uint64_t dropped = 0;
  };

  /// Releases what lies before `from`, then reads a page from there (from
  /// the oldest retained byte if `from` is older). Reading does not release
  /// the page itself: a client that retries a lost read gets it again.
  page read(std::uint64_t from, std::uint64_t max_bytes);

  /// Releases everything before `offset`.
  void release(std::uint64_t offset);

  /// One past the last byte produced (dropped bytes included).
  std::uint64_t end() const noexcept { return end_; }
  /// Bytes retained.
  std::uint64_t retained() const noexcept { return retained_; }
  /// Bytes dropped so far.
  std::uint64_t dropped() const noexcept { return dropped_total_; }
  /// Bytes produced per stream.
  std::uint64_t produced(protocol::stream_kind s) const noexcept {
    return produced_[static_cast<int>(s)];
  }
  /// How much more output may be read from the process now (its credit),
  /// given `outstanding` credit it already holds.
  std::uint64_t room(std::uint64_t outstanding) const;
  /// The last complete line written (either stream), for progress.
  const std::string& last_line() const noexcept { return last_line_; }

private:
  struct chunk {
    protocol::stream_kind stream;
    std::uint64_t offset;
    std::string bytes;
  };
  void drop_oldest();
  void note_lines(std::string_view bytes);

  std::uint64_t max_bytes_;
  protocol::overflow_policy policy_;
  std::deque<chunk> chunks_;
  /// Offset of the first byte not released (retained or dropped after it).
  std::uint64_t begin_ = 0;
  std::uint64_t end_ = 0;
  std::uint64_t retained_ = 0;
  /// Dropped bytes not yet released, all before the first chunk (drops
  /// are from the front).
  std::uint64_t dropped_pending_ = 0;
  std::uint64_t dropped_total_ = 0;
  std::uint64_t produced_[2] = {0, 0};
  std::string last_line_;
  std::string partial_line_;
};

} // namespace actorexec
