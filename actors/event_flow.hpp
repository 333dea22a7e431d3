#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "actors/event_log.hpp"
#include "actors/messages.hpp"
#include "actors/released_history.hpp"
#include "actors/server_stats.hpp"
#include "actors/settings.hpp"

namespace actorexec {

/// Encoded bytes a session handed to its connection and that are not yet
/// written, and the part of them beyond the guaranteed window, borrowed from
/// the server-wide budget. The borrowed bytes go back when the window is
/// destroyed, however the session ends.
class output_window {
public:
  output_window() = default;
  output_window(const output_window&) = delete;
  output_window& operator=(const output_window&) = delete;
  ~output_window() { set(0); }

  void init(std::shared_ptr<server_stats> stats, std::int64_t guaranteed) {
    stats_ = std::move(stats);
    guaranteed_ = guaranteed;
  }
  std::int64_t in_flight() const noexcept { return in_flight_; }
  void set(std::int64_t in_flight) {
    auto delta = borrowed(in_flight) - borrowed(in_flight_);
    if (stats_ && delta != 0)
      stats_->borrowed_window_bytes += delta;
    in_flight_ = in_flight;
  }

private:
  std::int64_t borrowed(std::int64_t n) const noexcept {
    return n > guaranteed_ ? n - guaranteed_ : 0;
  }
  std::shared_ptr<server_stats> stats_;
  std::int64_t guaranteed_ = 0;
  std::int64_t in_flight_ = 0;
};

/// A session's events on their way from the child to the client, without
/// any actor: what is retained (the event log, its bounds and overflow
/// policy), when it is released (acks, or the implicit replay window), what
/// may go to the connection now (its window and the server-wide budget), and
/// how much the child may produce (the process's read credit). The session
/// actor feeds it what happens and sends what it returns; the unit tests
/// drive it alone (tests/actors/event_flow_test.cpp).
///
/// The owner's cursors (sent, written) live in the event log. Read-only
/// watchers need no cursor here: `copy_from` reads the retained events from
/// any `seq` without moving anything, and says what a watcher missed.
class event_flow {
public:
  using clock = std::chrono::steady_clock;

  event_flow(std::shared_ptr<const settings> cfg,
             std::shared_ptr<server_stats> stats);

  // -- the process side ------------------------------------------------------

  /// A new process is being started with `policy`: it holds no credit.
  void start_process(protocol::overflow_policy policy);

  /// It runs: its drops and blocked time count from zero.
  void process_started();

  /// Output the process read (it used `batch.raw_bytes` of its credit).
  void on_output(output_batch& batch);

  /// An event other than output (process events, completion, error).
  void push_event(retained_event ev);

  /// Read credit for the process now, or 0 (nothing worth a message, or a
  /// full buffer under `block`, whose time is counted from `now`).
  std::uint64_t take_credit(clock::time_point now);

  // -- the client side -------------------------------------------------------

  /// Frames for the connection now, within its window, encoding rare events
  /// with `encode`; nothing when nothing may go.
  std::optional<frame_batch> next_batch(const event_log::rare_encoder& encode);

  /// The socket wrote `bytes` of the frames handed over.
  void on_written(std::uint64_t bytes);

  /// The client acknowledged every event up to `seq` (explicit mode from
  /// now on).
  void on_ack(std::uint64_t seq);

  /// The connection is gone: what it was handed but never wrote goes again
  /// to the next one.
  void on_detach();

  /// What a resume missed: events after its `last_seq` no longer retained.
  struct missed {
    std::uint64_t bytes = 0;
    /// `bytes` is exact (else a lower bound).
    bool exact = true;
    std::uint64_t events = 0;
    /// The seq of the last missed event.
    std::uint64_t last = 0;
  };

  /// A new connection resumes from `last_seq`: what it has is acknowledged,
  /// everything retained after it goes again. Returns what it missed.
  std::optional<missed> on_attach(std::uint64_t last_seq);

  /// A read-only copy of the retained, sent events from `from_seq` on, for a
  /// watcher: appends frames of at most about `max_bytes` to `out` (at least
  /// one) and returns the seq to read from next, and what the watcher missed
  /// when `from_seq` is older than what is retained.
  struct copied {
    std::uint64_t next_seq = 0;
    std::optional<missed> gap;
  };
  copied copy_from(std::uint64_t from_seq, std::size_t max_bytes,
                   frame_batch& out) const;

  // -- status ----------------------------------------------------------------

  std::uint64_t last_seq() const noexcept { return last_seq_; }
  std::uint64_t acked_seq() const noexcept { return acked_seq_; }
  std::uint64_t buffered_bytes() const noexcept { return buffered_bytes_; }
  std::size_t buffered_events() const noexcept { return events_.size(); }
  /// The process's output dropped under `drop_oldest`.
  std::uint64_t dropped_bytes() const noexcept { return dropped_bytes_; }
  /// The process's time blocked by a full buffer.
  std::uint64_t blocked_ns() const noexcept { return blocked_ns_; }
  /// Credit granted and not used yet.
  std::uint64_t outstanding_credit() const noexcept { return outstanding_; }
  /// The event log (read-only, for tests and status).
  const event_log& events() const noexcept { return events_; }

private:
  bool may_borrow() const;
  bool may_send() const;
  bool batch_worth_sending() const;
  bool pending() const;
  std::size_t send_next(std::string& frames,
                        const event_log::rare_encoder& encode);
  void pop_front();
  std::uint64_t weight() const;
  bool over_bounds(std::uint64_t raw = 0, std::size_t events = 0) const;
  bool full() const;
  std::uint64_t mean_event_bytes() const;
  std::uint64_t min_grant() const;
  std::uint64_t room() const;
  void release_implicit();
  void drop_oldest();
  missed missed_after(std::uint64_t last_seq, std::uint64_t first_kept) const;

  std::shared_ptr<const settings> cfg_;
  std::shared_ptr<server_stats> stats_;
  protocol::overflow_policy policy_ = protocol::overflow_policy::block;
  /// The event log: [sent | not yet sent], with the send and written
  /// cursors of the current connection.
  event_log events_;
  /// Written bytes not yet matched to a whole event.
  std::uint64_t written_carry_ = 0;
  /// Bytes of written events still retained (the implicit replay window).
  std::uint64_t written_window_ = 0;
  /// Raw output bytes retained.
  std::uint64_t buffered_bytes_ = 0;
  /// Encoded bytes handed to the connection and not yet written.
  output_window window_;
  /// Credit granted to the process and not yet used.
  std::uint64_t outstanding_ = 0;
  /// Last `seq` assigned, and the highest the client acknowledged.
  std::uint64_t last_seq_ = 0;
  std::uint64_t acked_seq_ = 0;
  /// The client acknowledges explicitly: written events wait for its ack.
  bool explicit_ack_ = false;
  /// Child output bytes and output events produced so far (their mean
  /// turns the frame bound into bytes of credit).
  std::uint64_t cum_raw_ = 0;
  std::uint64_t cum_events_ = 0;
  /// The output of the latest events removed from the log.
  released_history released_;
  /// Child output through the last event removed from the log (released
  /// or acknowledged): what a resume from before the log missed ends here.
  std::uint64_t popped_through_ = 0;
  std::uint64_t dropped_bytes_ = 0;
  /// Since when a full buffer withholds credit (`block`), and the total.
  std::optional<clock::time_point> blocked_since_;
  std::uint64_t blocked_ns_ = 0;
};

} // namespace actorexec
