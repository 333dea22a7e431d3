#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "protocol/encode.hpp"
#include "protocol/framer.hpp"

namespace actorexec {

/// What a retained event is; it is encoded (and given its `seq`) the first
/// time it is sent, so events dropped before that leave no hole in `seq`.
enum class event_kind {
  output,
  gap,
  started,
  paused,
  resumed,
  canceled,
  completed,
  error
};

/// The details of the rare events (`completed`, `error`), kept out of line.
struct event_detail {
  std::shared_ptr<const protocol::completion> completion;
  std::string error;
};

/// One event other than output, as produced (output is packed; in the side
/// queue, kind `output` marks a long payload and names its stream).
struct retained_event {
  event_kind kind = event_kind::gap;
  protocol::stream_kind stream = protocol::stream_kind::out;
  /// `gap`: dropped frames and bytes.
  std::uint32_t gap_frames = 0;
  std::uint64_t gap_bytes = 0;
  /// `completed` and `error` details.
  std::shared_ptr<const event_detail> detail;
  /// The process a process event is about (its frame names it when sent,
  /// which may be after the next process started).
  std::int64_t pid = 0;
};

/// A session's retained events in `seq` order: [sent | unsent].
///
/// Retention is most of a busy session's memory, so output events are kept
/// packed: a thousand lines of `seq` are 150 kB as frames, each its own
/// allocation, but 13 kB as packed payloads. An output event is encoded
/// when it is sent, and again on a resend (rare: after a reconnect). Other
/// events ("rare": process events, gaps) live in a side queue in the same
/// order and keep their frame once sent, since their text depends on state
/// that may change later (the pid); long payloads live there too. Sent events
/// have consecutive `seq`s from `first_seq()`.
///
/// Two cursors walk the sent events: `send` (events before it were handed
/// to the current connection) and `written` (events before it were written
/// to its socket); written <= send <= sent.
class event_log {
public:
  /// What the bounds and the cursors need of one sent event.
  struct info {
    /// Size of its frame.
    std::uint64_t frame_size = 0;
    /// Child output bytes it retains (output only).
    std::uint64_t raw_size = 0;
    /// Child output bytes it stands for (output, and a gap's dropped bytes).
    std::uint64_t produced = 0;
  };

  /// An event leaving for the first time.
  struct sent_event {
    /// Size of its frame.
    std::size_t size = 0;
    /// An output event, and its stream.
    bool output = false;
    protocol::stream_kind stream = protocol::stream_kind::out;
  };

  /// Encodes a rare event with its `seq`.
  using rare_encoder =
      std::function<std::string(const retained_event&, std::uint64_t)>;

  /// Number of events retained, sent or not.
  std::size_t size() const noexcept { return sent_ + unsent_; }
  bool empty() const noexcept { return size() == 0; }
  std::size_t sent_count() const noexcept { return sent_; }
  bool has_unsent() const noexcept { return unsent_ > 0; }
  /// `seq` of the oldest sent event, or 0 when none is retained.
  std::uint64_t first_seq() const noexcept { return sent_ ? first_seq_ : 0; }

  /// Payloads at least this long (`chunks` framing, long lines) are kept
  /// as they came, in the side queue: their frame adds little to them, and
  /// packing would copy each of them twice.
  static constexpr std::size_t side_payload_bytes = 1024;

  /// Appends output (its raw size is the piece's).
  void push_output(protocol::stream_kind stream, protocol::output_piece piece);
  /// Appends an event other than output.
  void push_rare(retained_event ev);

  /// What `drop_oldest_unsent` dropped.
  struct dropped {
    /// Child output bytes and output events dropped.
    std::uint64_t raw = 0;
    std::size_t frames = 0;
  };

  /// Asked before each event of a drop: go on, given the raw bytes dropped
  /// so far and by how many events the log has shrunk so far?
  using drop_more = std::function<bool(std::uint64_t, std::size_t)>;

  /// `drop_oldest`: drops the oldest unsent output events of one stream, in
  /// a row, while `more` says so, and puts one `stream.gap` in their place
  /// (or grows the gap right before them). One call moves the rest of the
  /// log once, however many events it drops. Drops nothing when no unsent
  /// output is left.
  dropped drop_oldest_unsent(const drop_more& more);

  /// The send cursor is past every sent event: what goes next is unsent.
  bool caught_up() const noexcept { return send_.index == sent_; }
  /// Appends the frame of the oldest unsent event, with `seq` (rare ones
  /// through `encode`), to `out` and moves the event past the send cursor.
  /// Needs `caught_up() && has_unsent()`.
  sent_event send_unsent(std::uint64_t seq, const rare_encoder& encode,
                         std::string& out);
  /// Appends the frame of the sent event at the send cursor, encoded again,
  /// to `out`, moves past it and returns the frame's size. Needs
  /// `!caught_up()`.
  std::size_t resend(std::string& out);

  std::size_t send_index() const noexcept { return send_.index; }
  std::size_t written_index() const noexcept { return written_.index; }
  /// Moves the written cursor past the whole frames that `bytes` written to
  /// the socket cover; returns their size (the rest belongs to a frame not
  /// yet written whole).
  std::uint64_t advance_written(std::uint64_t bytes);
  /// A connection is lost: what it was handed but never wrote goes again.
  void rewind_send_to_written() noexcept { send_ = written_; }
  /// A new connection: everything retained goes again.
  void rewind_all() noexcept { send_ = written_ = cursor{0, front_, 0}; }

  /// The oldest sent event; needs sent_count() > 0.
  info front() const { return describe(parse(front_), 0); }
  /// What `pop_front` forgot: the event, and the child output produced up
  /// to and including it.
  struct popped {
    info event;
    std::uint64_t produced_through = 0;
  };
  /// Forgets the oldest sent event; needs sent_count() > 0.
  popped pop_front();
  /// Child output bytes produced up to and including the sent event `seq`,
  /// when it is retained.
  std::optional<std::uint64_t> produced_through(std::uint64_t seq) const;

  /// A read-only copy, for a watcher: appends the frames of the sent events
  /// from `from_seq` on (from the oldest retained, if older), each once, to
  /// `out` and their sizes to `sizes`, until `out` holds `max_bytes` or
  /// more; moves no cursor. Returns the seq of the next event to copy.
  std::uint64_t copy_sent(std::uint64_t from_seq, std::size_t max_bytes,
                          std::string& out,
                          std::vector<std::uint32_t>& sizes) const;

private:
  /// A position in the packed bytes, the event index it stands for, and the
  /// rare events before it.
  struct cursor {
    std::size_t index = 0;
    std::uint64_t pos = 0;
    std::size_t rare = 0;
  };
  /// A rare event and, once sent, its frame; or (`ev.kind` output) a long
  /// payload and its raw size.
  struct rare_entry {
    retained_event ev;
    std::string frame;
    protocol::output_piece piece;
    std::uint64_t raw_size = 0;
  };
  /// Encodes side entry `i` with `seq`, remembering a rare event's frame.
  void append_side(std::string& out, std::size_t i, std::uint64_t seq,
                   const rare_encoder* encode);
  /// One packed record, decoded.
  struct record {
    std::uint8_t tag = 0;
    std::uint32_t frame_size = 0;
    std::uint64_t raw_size = 0;
    std::uint32_t chunk_index = 0;
    std::uint32_t total_chunks = 1;
    /// Where its payload starts, and its length.
    std::uint64_t data_pos = 0;
    std::uint64_t data_len = 0;
    /// Where the next record starts.
    std::uint64_t end = 0;
    bool rare() const noexcept;
  };
  record parse(std::uint64_t pos) const;
  /// `r` with `rare` rare events before it (relative to `c`'s count).
  info describe(const record& r, std::size_t rare) const;
  /// Moves `c` past the record it points at.
  void advance(cursor& c) const;
  /// `c` moved past `r`, the record it points at.
  static cursor past(const cursor& c, const record& r) noexcept {
    return cursor{c.index + 1, r.end, c.rare + (r.rare() ? 1 : 0)};
  }
  std::string rare_record(std::uint32_t frame_size) const;
  void append_output(std::string& out, const record& r,
                     std::uint64_t seq) const;
  void set_frame_size(std::uint64_t pos, std::size_t size);
  /// Replaces the bytes [pos, end) in the unsent part with `with`.
  void splice(std::uint64_t pos, std::uint64_t end, const std::string& with);
  std::size_t index(std::uint64_t pos) const {
    return static_cast<std::size_t>(pos - base_);
  }

  /// Packed events; byte 0 is at logical position `base_` (a deque: popped
  /// records free their memory, and no buffer doubles).
  std::deque<char> bytes_;
  std::uint64_t base_ = 0;
  /// Logical position of the oldest event.
  std::uint64_t front_ = 0;
  std::deque<rare_entry> rare_;
  std::size_t sent_ = 0;
  std::size_t unsent_ = 0;
  std::uint64_t first_seq_ = 0;
  /// Output produced before the oldest sent event.
  std::uint64_t produced_before_ = 0;
  cursor send_;
  cursor written_;
  /// The first unsent event.
  cursor boundary_;
};

} // namespace actorexec
