#include "actors/event_flow.hpp"

#include <algorithm>

namespace actorexec {

namespace {

/// What one retained event costs beyond its output bytes (its frame's
/// JSON and bookkeeping), counted against the byte bound so that a child
/// printing empty lines cannot retain millions of frames on a few bytes.
constexpr std::uint64_t frame_overhead = 64;

std::uint64_t minus(std::uint64_t a, std::uint64_t b) {
  return a > b ? a - b : 0;
}

} // namespace

event_flow::event_flow(std::shared_ptr<const settings> cfg,
                       std::shared_ptr<server_stats> stats)
    : cfg_(std::move(cfg)), stats_(std::move(stats)) {
  window_.init(stats_,
               static_cast<std::int64_t>(cfg_->guaranteed_window_bytes));
}

// -- the process side ---------------------------------------------------------

void event_flow::start_process(protocol::overflow_policy policy) {
  policy_ = policy;
  outstanding_ = 0;
}

void event_flow::process_started() {
  dropped_bytes_ = 0;
  blocked_ns_ = 0;
}

void event_flow::on_output(output_batch& batch) {
  outstanding_ -= std::min(outstanding_, batch.raw_bytes);
  for (auto& piece : batch.pieces) {
    auto raw = piece.raw_size();
    buffered_bytes_ += raw;
    cum_raw_ += raw;
    ++cum_events_;
    events_.push_output(batch.stream, std::move(piece));
  }
  release_implicit();
  if (policy_ == protocol::overflow_policy::drop_oldest)
    drop_oldest();
}

void event_flow::push_event(retained_event ev) {
  events_.push_rare(std::move(ev));
}

std::uint64_t event_flow::take_credit(clock::time_point now) {
  if (policy_ == protocol::overflow_policy::block && full()) {
    // The child will block in write(2) once its pipe fills: count it.
    if (!blocked_since_)
      blocked_since_ = now;
    return 0;
  }
  if (blocked_since_) {
    auto ns = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(now -
                                                             *blocked_since_)
            .count());
    blocked_ns_ += ns;
    stats_->backpressure_blocked_ns_total += ns;
    blocked_since_.reset();
  }
  // Small grants would cost a message per few bytes: wait for a useful
  // size. Whatever keeps the room small is retained output, which the
  // client's acks (or, without acks, the socket's writes) release.
  auto r = room();
  if (r < min_grant())
    return 0;
  outstanding_ += r;
  return r;
}

// -- the client side ----------------------------------------------------------

/// The server-wide budget has bytes left to lend beyond guaranteed windows.
bool event_flow::may_borrow() const {
  return stats_->borrowed_window_bytes.load(std::memory_order_relaxed) <
         static_cast<std::int64_t>(cfg_->window_budget_bytes);
}

/// The connection window has room: below the guaranteed part always (and
/// with nothing in flight, so that output never stalls for want of a
/// written report), beyond it while the server-wide budget lasts.
bool event_flow::may_send() const {
  auto in_flight = window_.in_flight();
  if (in_flight >= static_cast<std::int64_t>(cfg_->connection_window_bytes))
    return false;
  if (in_flight == 0 ||
      in_flight < static_cast<std::int64_t>(cfg_->guaranteed_window_bytes))
    return true;
  return may_borrow();
}

/// The window has room for a batch worth its messages. Refilled whenever
/// any bytes were written, a full window goes out in batches of a few
/// frames, each paying a round trip through the connection and the socket
/// (TCP's "silly window syndrome"; in the 500-session fan-out a quarter of
/// the batches were under 4 KiB). So a session that cannot borrow waits
/// until half its guaranteed window is free.
bool event_flow::batch_worth_sending() const {
  return window_.in_flight() <=
             static_cast<std::int64_t>(cfg_->guaranteed_window_bytes / 2) ||
         may_borrow();
}

/// Events to send: what a previous connection was handed (sent again),
/// or unsent ones.
bool event_flow::pending() const {
  return !events_.caught_up() || events_.has_unsent();
}

/// Appends the frame of the oldest unsent event, fixing its `seq`, and
/// moves it to the sent part of the log. Returns the frame's size.
std::size_t event_flow::send_next(std::string& frames,
                                  const event_log::rare_encoder& encode) {
  auto sent = events_.send_unsent(++last_seq_, encode, frames);
  if (sent.output) {
    ++stats_->output_frames_total;
    if (sent.stream == protocol::stream_kind::err)
      ++stats_->stderr_frames_total;
  }
  return sent.size;
}

std::optional<frame_batch>
event_flow::next_batch(const event_log::rare_encoder& encode) {
  if (!pending() || !may_send() || !batch_worth_sending())
    return std::nullopt;
  frame_batch batch;
  batch.credited = true;
  // Frames are encoded straight into the batch's one buffer.
  while (pending() && may_send()) {
    auto size = events_.caught_up() ? send_next(batch.text, encode)
                                    : events_.resend(batch.text);
    window_.set(window_.in_flight() + static_cast<std::int64_t>(size));
    batch.sizes.push_back(static_cast<std::uint32_t>(size));
  }
  // The batch may wait behind a slow client: it takes no more room than it
  // holds (grown frame by frame, it would be up to twice that).
  if (batch.text.capacity() > batch.text.size() + batch.text.size() / 4)
    batch.text.shrink_to_fit();
  return batch;
}

void event_flow::on_written(std::uint64_t bytes) {
  window_.set(std::max<std::int64_t>(0, window_.in_flight() -
                                            static_cast<std::int64_t>(bytes)));
  written_carry_ += bytes;
  auto whole = events_.advance_written(written_carry_);
  written_carry_ -= whole;
  written_window_ += whole;
  release_implicit();
}

void event_flow::on_ack(std::uint64_t seq) {
  explicit_ack_ = true;
  // Nobody can ack what was never sent.
  acked_seq_ = std::max(acked_seq_, std::min(seq, last_seq_));
  while (events_.sent_count() > 0 && events_.first_seq() <= acked_seq_)
    pop_front();
}

void event_flow::on_detach() {
  // Whatever was handed to the lost connection but never written must be
  // sent again to the next one.
  events_.rewind_send_to_written();
  written_carry_ = 0;
  window_.set(0);
}

std::optional<event_flow::missed>
event_flow::on_attach(std::uint64_t last_seq) {
  // What the client has is acknowledged; everything after it goes again.
  acked_seq_ = std::max(acked_seq_, std::min(last_seq, last_seq_));
  while (events_.sent_count() > 0 && events_.first_seq() <= acked_seq_)
    pop_front();
  events_.rewind_all();
  written_carry_ = written_window_ = 0;
  window_.set(0); // what the old connection held is sent again
  std::uint64_t first_kept =
      events_.sent_count() > 0 ? events_.first_seq() : last_seq_ + 1;
  if (last_seq + 1 >= first_kept)
    return std::nullopt;
  return missed_after(last_seq, first_kept);
}

event_flow::copied event_flow::copy_from(std::uint64_t from_seq,
                                         std::size_t max_bytes,
                                         frame_batch& out) const {
  copied result;
  std::uint64_t first_kept =
      events_.sent_count() > 0 ? events_.first_seq() : last_seq_ + 1;
  if (from_seq < first_kept)
    result.gap = missed_after(from_seq == 0 ? 0 : from_seq - 1, first_kept);
  result.next_seq = events_.copy_sent(std::max(from_seq, first_kept), max_bytes,
                                      out.text, out.sizes);
  return result;
}

/// The output bytes a client that has everything through `last_seq` missed
/// when the events before `first_kept` are gone, and whether that is
/// exact: the output through the last removed event is known; the output
/// through `last_seq` while the released history still holds it. From
/// further back, the bytes the history covers are a lower bound.
event_flow::missed event_flow::missed_after(std::uint64_t last_seq,
                                            std::uint64_t first_kept) const {
  missed m;
  m.events = first_kept - 1 - last_seq;
  m.last = first_kept - 1;
  auto end = popped_through_;
  if (last_seq == 0) {
    m.bytes = end;
  } else if (auto at_client = released_.through(last_seq)) {
    m.bytes = end - *at_client;
  } else if (released_.size() > 0 && *released_.first_seq() > last_seq) {
    m.bytes = end - released_.before();
    m.exact = false;
  } else {
    m.exact = false;
  }
  return m;
}

// -- retention
// ------------------------------------------------------------------

/// Removes the oldest sent event (acknowledged, or released from the
/// window).
void event_flow::pop_front() {
  auto seq = events_.first_seq();
  bool written = events_.written_index() > 0;
  auto gone = events_.pop_front();
  popped_through_ = gone.produced_through;
  // Acknowledged events too: a watcher behind them, or a resume from before
  // an ack, is told exactly what it missed.
  released_.push(seq, gone.event.produced, gone.produced_through);
  buffered_bytes_ -= gone.event.raw_size;
  if (written)
    written_window_ -= gone.event.frame_size;
}

/// The retention's weight against `max_buffer_bytes`.
std::uint64_t event_flow::weight() const {
  return buffered_bytes_ + frame_overhead * events_.size();
}

/// The retention exceeds a bound, or would still with `raw` bytes in
/// `events` fewer events.
bool event_flow::over_bounds(std::uint64_t raw, std::size_t events) const {
  auto n = events_.size() - events;
  return buffered_bytes_ - raw + frame_overhead * n > cfg_->max_buffer_bytes ||
         n > cfg_->max_buffer_frames;
}

/// The buffer can take no more output (the `block` policy stops here).
bool event_flow::full() const {
  return weight() >= cfg_->max_buffer_bytes ||
         events_.size() >= cfg_->max_buffer_frames;
}

/// Mean raw bytes per output event so far. Before any output, a small
/// guess: the first grant then reads a few kilobytes, not a frame bound's
/// worth of one-byte lines.
std::uint64_t event_flow::mean_event_bytes() const {
  constexpr std::uint64_t first_guess = 4;
  if (cum_events_ == 0)
    return first_guess;
  return std::max<std::uint64_t>(1, cum_raw_ / cum_events_);
}

/// Credit smaller than this is not worth a message (at least 1 byte).
std::uint64_t event_flow::min_grant() const {
  auto frames_worth = cfg_->max_buffer_frames * mean_event_bytes();
  return std::max<std::uint64_t>(
      1, std::min({cfg_->max_buffer_bytes / 4, cfg_->read_chunk_bytes / 4,
                   frames_worth / 4}));
}

/// What the process may still be granted: the bound less the credit it
/// holds (some of it reserved by a read on a quiet stream) and, under
/// `block`, less what the buffer retains. The frame bound counts too: credit
/// is raw bytes, and a megabyte of `seq` is 150,000 events, so the grant
/// also stays within the frames left times the mean event size.
std::uint64_t event_flow::room() const {
  std::uint64_t used = outstanding_;
  std::uint64_t frames = 0;
  if (policy_ == protocol::overflow_policy::block) {
    used += weight();
    // Without acks, written events leave as new output needs their place
    // (release_implicit): they hold no frames against the credit.
    frames = events_.size() - (explicit_ack_ ? 0 : events_.written_index());
  }
  auto bytes = minus(cfg_->max_buffer_bytes, used);
  auto frames_left = minus(cfg_->max_buffer_frames, frames);
  auto frames_bytes = minus(frames_left * mean_event_bytes(), outstanding_);
  return std::min(bytes, frames_bytes);
}

/// A client that never acks acknowledges implicitly: a written event goes
/// once more than `replay_window_bytes` were written after it, or earlier
/// when the buffer is full. The window is best effort: were it to hold
/// written events against a full buffer, a client that never acks would
/// stall its own stream (1000 frames of 100-byte lines are far less than
/// 256 KiB).
void event_flow::release_implicit() {
  if (explicit_ack_)
    return;
  while (events_.written_index() > 0) {
    auto size = events_.front().frame_size;
    bool beyond_window = written_window_ - size > cfg_->replay_window_bytes;
    if (!beyond_window && !full())
      break;
    pop_front();
  }
}

/// `drop_oldest`: while over the bound, the oldest unsent output is dropped
/// and a `stream.gap` takes its place.
void event_flow::drop_oldest() {
  auto still_over = [this](std::uint64_t raw, std::size_t events) {
    return over_bounds(raw, events);
  };
  while (over_bounds()) {
    auto dropped = events_.drop_oldest_unsent(still_over);
    if (dropped.frames == 0)
      return;
    buffered_bytes_ -= dropped.raw;
    dropped_bytes_ += dropped.raw;
    stats_->dropped_bytes_total += dropped.raw;
    stats_->dropped_frames_total += dropped.frames;
  }
}

} // namespace actorexec
