#include "actors/session.hpp"

#include <chrono>
#include <ctime>
#include <optional>

#include <caf/all.hpp>

#include "actors/log.hpp"
#include "actors/process.hpp"
#include "actors/timer_relay.hpp"
#include "protocol/encode.hpp"

namespace actorexec {

using namespace std::chrono;
using protocol::error_code;
using protocol::stream_kind;

const char* to_string(session_phase phase) {
  switch (phase) {
  case session_phase::attached:
    return "attached";
  case session_phase::detached:
    return "detached";
  default:
    return "expired";
  }
}

namespace {

void finish_drain(session_actor_type* self);
void end_session(session_actor_type* self, std::uint64_t grace_ms,
                 const char* why);

/// Sends a response or error straight to the connection, outside the credit
/// window: replies are small and must never wait behind a stalled stream.
void reply_frame(session_actor_type* self, std::string text) {
  auto& st = self->state;
  if (!st.conn)
    return;
  frame_batch batch;
  batch.add(text);
  self->send(st.conn, frames_atom::value, std::move(batch));
}

/// A response; `unknown` names the params of the request that were
/// ignored (as `warnings`).
void reply(session_actor_type* self, const protocol::request_id& id,
           boost::json::value result,
           const std::vector<std::string>& unknown = {}) {
  protocol::add_warnings(result, unknown);
  reply_frame(self, protocol::encode_result(id, std::move(result)));
}

void reply_error(session_actor_type* self, const protocol::request_id& id,
                 error_code code, std::string message,
                 boost::json::value data = nullptr) {
  self->state.stats->count_rpc_error(static_cast<int>(code));
  log::info("request_error", {{"session_id", self->state.id},
                              {"code", static_cast<int>(code)},
                              {"error", message}});
  auto error = protocol::make_error(code, std::move(message));
  error.data = std::move(data);
  reply_frame(self, protocol::encode_error(id, error));
}

std::string iso_now() {
  auto t = system_clock::to_time_t(system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string encode_event(const session_state& st, const retained_event& ev,
                         std::uint64_t seq) {
  switch (ev.kind) {
  case event_kind::gap:
    return protocol::encode_stream_gap(ev.stream, ev.gap_bytes, ev.gap_frames,
                                       seq);
  case event_kind::started:
    return protocol::encode_process_event("process.started", "started", st.pid,
                                          st.pid, seq);
  case event_kind::paused:
    return protocol::encode_process_event("process.paused", "paused", st.pid,
                                          st.pid, seq);
  case event_kind::resumed:
    return protocol::encode_process_event("process.resumed", "resumed", st.pid,
                                          st.pid, seq);
  case event_kind::canceled:
    return protocol::encode_process_event("process.canceled", "canceled",
                                          st.pid, st.pid, seq);
  case event_kind::completed:
    return protocol::encode_completed(*ev.detail->completion, seq);
  default:
    return protocol::encode_process_error(ev.detail->error, seq);
  }
}

/// Appends the frame of the oldest unsent event to `frames`, fixing its
/// `seq`, and moves the event to the sent part of the log. Returns the
/// frame's size.
std::size_t send_next_unsent(session_state& st, std::string& frames) {
  auto sent = st.events.send_unsent(
      ++st.last_seq,
      [&st](const retained_event& ev, std::uint64_t seq) {
        return encode_event(st, ev, seq);
      },
      frames);
  if (sent.output) {
    ++st.stats->output_frames_total;
    if (sent.stream == stream_kind::err)
      ++st.stats->stderr_frames_total;
  }
  return sent.size;
}

/// The server-wide budget has bytes left to lend beyond guaranteed windows.
bool may_borrow(const session_state& st) {
  return st.stats->borrowed_window_bytes.load(std::memory_order_relaxed) <
         static_cast<std::int64_t>(st.cfg->window_budget_bytes);
}

/// The connection window has room: below the guaranteed part always (and
/// with nothing in flight, so that output never stalls for want of a
/// written report), beyond it while the server-wide budget lasts.
bool may_send(const session_state& st) {
  auto in_flight = st.window.in_flight();
  if (in_flight >= static_cast<std::int64_t>(st.cfg->connection_window_bytes))
    return false;
  if (in_flight == 0 ||
      in_flight < static_cast<std::int64_t>(st.cfg->guaranteed_window_bytes))
    return true;
  return may_borrow(st);
}

/// The window has room for a batch worth its messages. Refilled whenever
/// any bytes were written, a full window goes out in batches of a few
/// frames, each paying a round trip through the connection and the socket
/// (TCP's "silly window syndrome"; in the 500-session fan-out a quarter of
/// the batches were under 4 KiB). So a session that cannot borrow waits
/// until half its guaranteed window is free.
bool batch_worth_sending(const session_state& st) {
  auto in_flight = st.window.in_flight();
  return in_flight <=
             static_cast<std::int64_t>(st.cfg->guaranteed_window_bytes / 2) ||
         may_borrow(st);
}

/// Hands events to the connection while its window has room: first what a
/// previous connection was handed (encoded again), then unsent events.
void pump(session_actor_type* self) {
  auto& st = self->state;
  auto pending = [&st] {
    return !st.events.caught_up() || st.events.has_unsent();
  };
  if (!st.conn || !pending() || !may_send(st) || !batch_worth_sending(st))
    return;
  frame_batch batch;
  batch.credited = true;
  // Frames are encoded straight into the batch's one buffer.
  while (pending() && may_send(st)) {
    auto size = st.events.caught_up() ? send_next_unsent(st, batch.text)
                                      : st.events.resend(batch.text);
    st.window.set(st.window.in_flight() + static_cast<std::int64_t>(size));
    batch.sizes.push_back(static_cast<std::uint32_t>(size));
  }
  // The batch may wait behind a slow client: it takes no more room than it
  // holds (grown frame by frame, it would be up to twice that).
  if (batch.text.capacity() > batch.text.size() + batch.text.size() / 4)
    batch.text.shrink_to_fit();
  self->send(st.conn, frames_atom::value, std::move(batch));
}

/// Removes the oldest sent event (acknowledged, or released from the
/// window).
void pop_front(session_state& st) {
  auto seq = st.events.first_seq();
  bool written = st.events.written_index() > 0;
  auto gone = st.events.pop_front();
  st.popped_through = gone.produced_through;
  if (seq > st.acked_seq)
    st.released.push(seq, gone.event.produced, gone.produced_through);
  st.buffered_bytes -= gone.event.raw_size;
  if (written)
    st.written_window -= gone.event.frame_size;
}

/// What one retained event costs beyond its output bytes (its frame's
/// JSON and bookkeeping), counted against the byte bound so that a child
/// printing empty lines cannot retain millions of frames on a few bytes.
constexpr std::uint64_t frame_overhead = 64;

/// The retention's weight against `max_buffer_bytes`.
std::uint64_t weight(const session_state& st) {
  return st.buffered_bytes + frame_overhead * st.events.size();
}

/// The retention exceeds a bound, or would still with `raw` bytes in
/// `events` fewer events.
bool over_bounds(const session_state& st, std::uint64_t raw = 0,
                 std::size_t events = 0) {
  auto n = st.events.size() - events;
  return st.buffered_bytes - raw + frame_overhead * n >
             st.cfg->max_buffer_bytes ||
         n > st.cfg->max_buffer_frames;
}

/// The buffer can take no more output (the `block` policy stops here).
bool full(const session_state& st) {
  return weight(st) >= st.cfg->max_buffer_bytes ||
         st.events.size() >= st.cfg->max_buffer_frames;
}

/// Mean raw bytes per output event so far. Before any output, a small
/// guess: the first grant then reads a few kilobytes, not a frame bound's
/// worth of one-byte lines.
std::uint64_t mean_event_bytes(const session_state& st) {
  constexpr std::uint64_t first_guess = 4;
  if (st.cum_events == 0)
    return first_guess;
  return std::max<std::uint64_t>(1, st.cum_raw / st.cum_events);
}

std::uint64_t minus(std::uint64_t a, std::uint64_t b) {
  return a > b ? a - b : 0;
}

/// Credit smaller than this is not worth a message (at least 1 byte).
std::uint64_t min_grant(const session_state& st) {
  auto frames_worth = st.cfg->max_buffer_frames * mean_event_bytes(st);
  return std::max<std::uint64_t>(
      1, std::min({st.cfg->max_buffer_bytes / 4, st.cfg->read_chunk_bytes / 4,
                   frames_worth / 4}));
}

/// What the process may still be granted: the bound less the credit it
/// holds (some of it reserved by a read on a quiet stream) and, under
/// `block`, less what the buffer retains. The frame bound counts too: credit
/// is raw bytes, and a megabyte of `seq` is 150,000 events, so the grant
/// also stays within the frames left times the mean event size.
std::uint64_t room(const session_state& st) {
  std::uint64_t used = st.proc_outstanding;
  std::uint64_t frames = 0;
  if (st.policy == protocol::overflow_policy::block) {
    used += weight(st);
    // Without acks, written events leave as new output needs their place
    // (release_implicit): they hold no frames against the credit.
    frames =
        st.events.size() - (st.explicit_ack ? 0 : st.events.written_index());
  }
  auto bytes = minus(st.cfg->max_buffer_bytes, used);
  auto frames_left = minus(st.cfg->max_buffer_frames, frames);
  auto frames_bytes =
      minus(frames_left * mean_event_bytes(st), st.proc_outstanding);
  return std::min(bytes, frames_bytes);
}

/// A client that never acks acknowledges implicitly: a written event goes
/// once more than `replay_window_bytes` were written after it, or earlier
/// when the buffer is full. The window is best effort: were it to hold
/// written events against a full buffer, a client that never acks would
/// stall its own stream (1000 frames of 100-byte lines are far less than
/// 256 KiB).
void release_implicit(session_state& st) {
  if (st.explicit_ack)
    return;
  while (st.events.written_index() > 0) {
    auto size = st.events.front().frame_size;
    bool beyond_window = st.written_window - size > st.cfg->replay_window_bytes;
    if (!beyond_window && !full(st))
      break;
    pop_front(st);
  }
}

/// `drop_oldest`: while over the bound, the oldest unsent output is dropped
/// and a `stream.gap` takes its place.
void drop_oldest(session_state& st) {
  auto still_over = [&st](std::uint64_t raw, std::size_t events) {
    return over_bounds(st, raw, events);
  };
  while (over_bounds(st)) {
    auto dropped = st.events.drop_oldest_unsent(still_over);
    if (dropped.frames == 0)
      return;
    st.buffered_bytes -= dropped.raw;
    st.dropped_bytes += dropped.raw;
    st.stats->dropped_bytes_total += dropped.raw;
    st.stats->dropped_frames_total += dropped.frames;
  }
}

/// Grants the process credit for what the buffer can still take. Under
/// `block` a full buffer grants nothing, so the process stops reading and the
/// child blocks in write(2); under `drop_oldest` credit always flows.
void grant_credit(session_actor_type* self) {
  auto& st = self->state;
  if (!st.proc)
    return;
  if (st.policy == protocol::overflow_policy::block && full(st)) {
    // The child will block in write(2) once its pipe fills: count it.
    if (!st.blocked_since)
      st.blocked_since = self->clock().now();
    return;
  }
  if (st.blocked_since) {
    auto d = self->clock().now() - *st.blocked_since;
    auto ns = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
    st.blocked_ns += ns;
    st.stats->backpressure_blocked_ns_total += ns;
    st.blocked_since.reset();
  }
  // Small grants would cost a message per few bytes: wait for a useful
  // size. Whatever keeps the room small is retained output, which the
  // client's acks (or, without acks, the socket's writes) release.
  auto r = room(st);
  if (r < min_grant(st))
    return;
  st.proc_outstanding += r;
  self->send(st.proc, credit_atom::value, r);
}

void push_simple(session_actor_type* self, event_kind kind) {
  retained_event ev;
  ev.kind = kind;
  self->state.events.push_rare(std::move(ev));
  pump(self);
}

void on_output(session_actor_type* self, output_batch& batch) {
  auto& st = self->state;
  st.proc_outstanding -= std::min(st.proc_outstanding, batch.raw_bytes);
  st.stream_bytes[static_cast<int>(batch.stream)] += batch.raw_bytes;
  for (auto& piece : batch.pieces) {
    auto raw = piece.raw_size();
    st.buffered_bytes += raw;
    st.cum_raw += raw;
    ++st.cum_events;
    st.events.push_output(batch.stream, std::move(piece));
  }
  release_implicit(st);
  if (st.policy == protocol::overflow_policy::drop_oldest)
    drop_oldest(st);
  pump(self);
  grant_credit(self);
}

void on_written(session_actor_type* self, std::uint64_t bytes) {
  auto& st = self->state;
  st.window.set(std::max<std::int64_t>(
      0, st.window.in_flight() - static_cast<std::int64_t>(bytes)));
  st.written_carry += bytes;
  auto whole = st.events.advance_written(st.written_carry);
  st.written_carry -= whole;
  st.written_window += whole;
  release_implicit(st);
  pump(self);
  grant_credit(self);
}

void on_ack(session_actor_type* self, std::uint64_t seq) {
  auto& st = self->state;
  st.explicit_ack = true;
  if (seq > st.last_seq)
    seq = st.last_seq; // nobody can ack what was never sent
  st.acked_seq = std::max(st.acked_seq, seq);
  while (st.events.sent_count() > 0 && st.events.first_seq() <= st.acked_seq)
    pop_front(st);
  grant_credit(self);
}

boost::json::value status_of(session_actor_type* self) {
  auto& st = self->state;
  boost::json::object result{{"session_id", st.id},
                             {"state", to_string(st.phase)},
                             {"last_seq", st.last_seq},
                             {"acked_seq", st.acked_seq},
                             {"buffered_bytes", st.buffered_bytes},
                             {"buffered_frames", st.events.size()}};
  if (st.pid == 0) {
    result["process"] = nullptr;
    return result;
  }
  boost::json::object p{
      {"state", st.process_state},
      {"pid", st.pid},
      {"pgid", st.pid},
      {"exit_code", nullptr},
      {"signal", nullptr},
      {"started_at", st.started_at},
      {"bytes",
       {{"stdout", st.stream_bytes[0]}, {"stderr", st.stream_bytes[1]}}},
      {"dropped_bytes", st.dropped_bytes},
      {"blocked_ms", st.blocked_ns / 1000000},
      {"paused", st.paused}};
  if (auto& c = st.last_completion) {
    if (c->exit_code)
      p["exit_code"] = *c->exit_code;
    if (c->signal)
      p["signal"] = *c->signal;
  }
  result["process"] = std::move(p);
  return result;
}

/// Why the allow-list refuses `p` (its command, then its `env`), or nothing.
std::optional<protocol::rpc_error>
allow_list_refusal(const settings& cfg, const protocol::execute_params& p) {
  if (auto err = cfg.allowed.check(p))
    return err;
  // Without an allow-list a client sets any variable in the command itself;
  // with one, `env` could run what the list never saw (BASH_FUNC_*,
  // LD_PRELOAD, BASH_ENV ...).
  if (!cfg.allowed.empty())
    return cfg.allowed_env.check(p);
  return std::nullopt;
}

void execute(session_actor_type* self, protocol::request& req) {
  auto& st = self->state;
  auto& params = std::get<protocol::execute_params>(req.params);
  if (st.proc) {
    reply_error(self, req.id, error_code::invalid_params,
                "A process is already running");
    return;
  }
  if (st.cfg->no_shell && params.command) {
    reply_error(self, req.id, error_code::command_not_allowed,
                "Shell commands are disabled on this server (--no-shell): "
                "use 'argv'");
    return;
  }
  if (auto err = allow_list_refusal(*st.cfg, params)) {
    reply_error(self, req.id, err->code, err->message);
    return;
  }
  spawn_spec spec{params, st.cfg->shell, st.cfg->scrub_env, st.cfg->rlimits,
                  st.cfg->run_as};
  st.policy = params.on_overflow;
  st.pending_execute = req.id;
  st.pending_unknown = req.unknown_params;
  st.awaiting_start = true;
  st.execute_at = self->clock().now();
  st.proc = self->spawn<caf::monitored>(process_actor, caf::actor{self},
                                        std::move(spec), st.spawner, st.cfg,
                                        st.stats);
  st.proc_outstanding = 0;
  grant_credit(self);
}

void on_started(session_actor_type* self, std::int64_t pid) {
  auto& st = self->state;
  st.pid = pid;
  st.awaiting_start = false;
  st.blocked_ns = 0;
  st.stats->spawn_latency.observe(
      std::chrono::duration_cast<std::chrono::nanoseconds>(self->clock().now() -
                                                           st.execute_at));
  st.process_state = "running";
  st.paused = false;
  st.started_at = iso_now();
  st.last_completion = nullptr;
  st.stream_bytes[0] = st.stream_bytes[1] = 0;
  st.dropped_bytes = 0;
  reply(self, st.pending_execute,
        boost::json::object{{"status", "started"}, {"pid", pid}, {"pgid", pid}},
        st.pending_unknown);
  push_simple(self, event_kind::started);
}

void on_done(session_actor_type* self, protocol::completion& c) {
  auto& st = self->state;
  st.proc = nullptr;
  st.paused = false;
  st.process_state = "exited";
  st.last_completion =
      std::make_shared<const protocol::completion>(std::move(c));
  retained_event ev;
  ev.kind = event_kind::completed;
  ev.detail = std::make_shared<const event_detail>(
      event_detail{st.last_completion, {}});
  st.events.push_rare(std::move(ev));
  pump(self);
  if (st.draining)
    finish_drain(self);
}

void control(session_actor_type* self, protocol::request& req) {
  auto& st = self->state;
  if (!st.proc) {
    reply_error(self, req.id, error_code::no_process, "No process is running");
    return;
  }
  auto type = std::get<protocol::control_params>(req.params).type;
  auto id = req.id;
  auto unknown = req.unknown_params;
  self->request(st.proc, caf::infinite, control_atom::value, type)
      .then(
          [=](const std::string& status) {
            auto& st = self->state;
            reply(self, id, boost::json::object{{"status", status}}, unknown);
            if (status == "paused") {
              st.paused = true;
              st.process_state = "paused";
              push_simple(self, event_kind::paused);
            } else if (status == "resumed") {
              st.paused = false;
              st.process_state = "running";
              push_simple(self, event_kind::resumed);
            } else {
              st.process_state = "terminating";
              push_simple(self, event_kind::canceled);
            }
          },
          [=](caf::error&) {
            reply_error(self, id, error_code::no_process,
                        "No process is running");
          });
}

void input(session_actor_type* self, protocol::request& req) {
  auto& st = self->state;
  if (!st.proc) {
    reply_error(self, req.id, error_code::no_process, "No process is running");
    return;
  }
  auto& p = std::get<protocol::input_params>(req.params);
  auto id = req.id;
  auto unknown = req.unknown_params;
  self->request(st.proc, caf::infinite, input_atom::value, std::move(p.data),
                p.eof)
      .then(
          [=](const input_result& r) {
            if (r.error != 0)
              reply_error(self, id, static_cast<error_code>(r.error), r.message,
                          r.data);
            else
              reply(self, id, boost::json::object{{"written", r.written}},
                    unknown);
          },
          [=](caf::error&) {
            reply_error(self, id, error_code::no_process,
                        "No process is running");
          });
}

void on_request(session_actor_type* self, protocol::request& req) {
  auto& st = self->state;
  log::debug("request", {{"session_id", st.id}, {"method", req.method}});
  if (std::holds_alternative<protocol::execute_params>(req.params))
    execute(self, req);
  else if (std::holds_alternative<protocol::control_params>(req.params))
    control(self, req);
  else if (std::holds_alternative<protocol::input_params>(req.params))
    input(self, req);
  else if (std::holds_alternative<protocol::status_params>(req.params))
    reply(self, req.id, status_of(self));
  else if (auto ack = std::get_if<protocol::ack_params>(&req.params)) {
    on_ack(self, ack->seq);
    if (req.id)
      reply(self, req.id, boost::json::object{{"acked_seq", st.acked_seq}},
            req.unknown_params);
  } else if (std::holds_alternative<protocol::detach_params>(req.params)) {
    st.detach_requested = true;
    reply(self, req.id, boost::json::object{{"status", "detached"}});
  } else {
    reply_error(self, req.id, error_code::internal_error,
                "Method not handled by the session: " + req.method);
  }
}

/// Ends the session now: the process group gets SIGTERM, `grace`, SIGKILL.
void end_session(session_actor_type* self, std::uint64_t grace_ms,
                 const char* why) {
  auto& st = self->state;
  log::info("session_end", {{"session_id", st.id}, {"reason", why}});
  if (st.proc)
    self->send(st.proc, terminate_atom::value, grace_ms);
  if (st.phase == session_phase::detached)
    --st.stats->detached_sessions;
  st.phase = session_phase::expired;
  self->quit();
}

void detach(session_actor_type* self, const char* why) {
  auto& st = self->state;
  log::info("session_detach", {{"session_id", st.id}, {"reason", why}});
  st.conn = nullptr;
  st.phase = session_phase::detached;
  ++st.stats->detached_sessions;
  // Whatever was handed to the lost connection but never written must be
  // sent again to the next one.
  st.events.rewind_send_to_written();
  st.written_carry = 0;
  st.window.set(0);
  auto gen = ++st.linger_gen;
  arm_timer(self, milliseconds{st.cfg->session_linger_ms}, timer_kind::linger,
            gen);
}

void on_peer_gone(session_actor_type* self, bool clean) {
  auto& st = self->state;
  if (clean && !st.detach_requested)
    end_session(self, st.cfg->close_grace_ms, "client_closed");
  else
    detach(self, clean ? "detach_requested" : "connection_lost");
}

/// The output bytes a resume from `last_seq` missed, and whether that is
/// exact: the events after it up to the log's oldest were removed, and the
/// output through the last of them is known. The output through `last_seq`
/// is known while the released history still holds it; from further back,
/// the bytes the history covers are a lower bound.
std::pair<std::uint64_t, bool> missed_bytes(const session_state& st,
                                            std::uint64_t last_seq) {
  auto end = st.popped_through;
  if (last_seq == 0)
    return {end, true};
  if (auto at_client = st.released.through(last_seq))
    return {end - *at_client, true};
  if (st.released.size() > 0 && *st.released.first_seq() > last_seq)
    return {end - st.released.before(), false};
  return {0, false};
}

/// A resume from before the oldest retained event: the events in between
/// are gone. One `stream.gap` stands in their place; it carries the seq of
/// the last missing event, so the client's seq stays contiguous.
void report_resume_gap(session_actor_type* self, std::uint64_t last_seq) {
  auto& st = self->state;
  std::uint64_t first_kept =
      st.events.sent_count() > 0 ? st.events.first_seq() : st.last_seq + 1;
  if (last_seq + 1 >= first_kept)
    return;
  auto [bytes, exact] = missed_bytes(st, last_seq);
  log::warn("resume_gap", {{"session_id", st.id},
                           {"last_seq", last_seq},
                           {"first_kept", first_kept},
                           {"dropped_bytes", bytes},
                           {"exact", exact}});
  reply_frame(self, protocol::encode_stream_gap(stream_kind::out, bytes,
                                                first_kept - 1 - last_seq,
                                                first_kept - 1, exact));
}

/// Binds `conn` (closing a connection still attached with 4001), answers
/// the `resume` request and replays every retained event after `last_seq`.
bool attach(session_actor_type* self, caf::actor& conn,
            const protocol::request& req) {
  auto& st = self->state;
  auto last_seq = std::get<protocol::resume_params>(req.params).last_seq;
  if (st.conn && st.conn != conn) {
    self->send(st.conn, close_atom::value, std::uint16_t{4001},
               std::string{"session taken over by a resume"});
  }
  if (st.phase == session_phase::detached)
    --st.stats->detached_sessions;
  st.phase = session_phase::attached;
  st.detach_requested = false;
  ++st.linger_gen; // the linger timer is moot
  st.conn = conn;
  self->monitor(conn);
  // What the client has is acknowledged; everything after it goes again.
  st.acked_seq = std::max(st.acked_seq, std::min(last_seq, st.last_seq));
  while (st.events.sent_count() > 0 && st.events.first_seq() <= st.acked_seq)
    pop_front(st);
  st.events.rewind_all();
  st.written_carry = st.written_window = 0;
  st.window.set(0); // what the old connection held is sent again
  auto proc = status_of(self).as_object()["process"];
  log::info("session_attach", {{"session_id", st.id}, {"last_seq", last_seq}});
  reply(self, req.id,
        boost::json::object{{"status", "resumed"},
                            {"session_id", st.id},
                            {"last_seq", st.last_seq},
                            {"process", proc}},
        req.unknown_params);
  report_resume_gap(self, last_seq);
  pump(self);
  grant_credit(self);
  return true;
}

/// The server drains: every client hears `server.shutdown`, a running
/// process gets `grace_ms` to finish before the termination ladder, and the
/// session ends (closing its socket with 1001) once the process is done.
void start_drain(session_actor_type* self, std::uint64_t grace_ms) {
  auto& st = self->state;
  if (st.draining) {
    if (grace_ms == 0 && st.proc) // a second signal: no more waiting
      self->send(st.proc, terminate_atom::value, std::uint64_t{0});
    return;
  }
  st.draining = true;
  reply_frame(self, protocol::encode_server_shutdown(grace_ms));
  if (!st.proc)
    return finish_drain(self);
  arm_timer(self, milliseconds{grace_ms}, timer_kind::drain, 0);
}

void finish_drain(session_actor_type* self) {
  auto& st = self->state;
  if (st.conn)
    self->send(st.conn, close_atom::value, std::uint16_t{1001},
               std::string{"server shutting down"});
  end_session(self, st.cfg->close_grace_ms, "server_shutdown");
}

void on_timer(session_actor_type* self, timer_kind kind, std::uint64_t gen) {
  auto& st = self->state;
  if (kind == timer_kind::drain) {
    if (st.proc)
      self->send(st.proc, terminate_atom::value, st.cfg->close_grace_ms);
    return;
  }
  if (st.phase == session_phase::detached && gen == st.linger_gen) {
    ++st.stats->sessions_expired_total;
    end_session(self, st.cfg->cancel_grace_ms, "linger_expired");
  }
}

} // namespace

caf::behavior session_actor(session_actor_type* self, std::string id,
                            caf::actor conn, child_spawner spawner,
                            std::shared_ptr<const settings> cfg,
                            std::shared_ptr<server_stats> stats) {
  auto& st = self->state;
  st.id = std::move(id);
  st.conn = std::move(conn);
  st.spawner = std::move(spawner);
  st.cfg = std::move(cfg);
  st.stats = std::move(stats);
  st.window.init(st.stats,
                 static_cast<std::int64_t>(st.cfg->guaranteed_window_bytes));
  ++st.stats->active_sessions;
  ++st.stats->sessions_total;
  self->monitor(st.conn);
  self->attach_functor([stats = st.stats] { --stats->active_sessions; });
  self->set_down_handler([=](caf::down_msg& msg) {
    auto& st = self->state;
    if (msg.source == st.proc) {
      // The process actor ended without `done`: it crashed (its group was
      // killed on the way out). The client still gets a final word.
      st.proc = nullptr;
      if (st.process_state != "exited" && st.pid != 0) {
        retained_event err;
        err.kind = event_kind::error;
        err.detail = std::make_shared<const event_detail>(
            event_detail{nullptr, "process supervision failed: " +
                                      caf::to_string(msg.reason)});
        st.events.push_rare(std::move(err));
        protocol::completion c;
        c.status = "failed";
        c.pid = c.pgid = st.pid;
        c.error = "process supervision failed";
        on_done(self, c);
      } else if (st.awaiting_start) {
        st.awaiting_start = false;
        reply_error(self, st.pending_execute, error_code::internal_error,
                    "process could not be started");
      }
    } else if (st.conn && msg.source == st.conn) {
      detach(self, "connection_actor_down");
    }
  });
  return {
      [=](request_atom, protocol::request& req) { on_request(self, req); },
      [=](started_atom, std::int64_t pid, std::int64_t) {
        on_started(self, pid);
      },
      [=](failed_atom, int code, std::string& what) {
        auto& st = self->state;
        st.proc = nullptr;
        st.awaiting_start = false;
        reply_error(self, st.pending_execute, static_cast<error_code>(code),
                    std::move(what));
      },
      [=](output_atom, output_batch& batch) { on_output(self, batch); },
      [=](done_atom, protocol::completion& c) { on_done(self, c); },
      [=](written_atom, std::uint64_t bytes) {
        if (self->current_sender() == self->state.conn)
          on_written(self, bytes);
      },
      [=](peer_gone_atom, bool clean) {
        if (self->current_sender() == self->state.conn)
          on_peer_gone(self, clean);
      },
      [=](attach_atom, caf::actor& conn, const protocol::request& req) {
        return attach(self, conn, req);
      },
      [=](end_atom, std::uint64_t grace_ms) {
        end_session(self, grace_ms, "discarded");
      },
      [=](shutdown_atom, std::uint64_t grace_ms) {
        start_drain(self, grace_ms);
      },
      [=](timer_atom, timer_kind kind, std::uint64_t gen) {
        on_timer(self, kind, gen);
      },
  };
}

} // namespace actorexec
