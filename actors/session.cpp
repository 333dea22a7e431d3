#include "actors/session.hpp"

#include <chrono>
#include <ctime>

#include <caf/all.hpp>

#include "actors/log.hpp"
#include "actors/process.hpp"
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

frame_ptr make_frame(std::string text) {
  return std::make_shared<const std::string>(std::move(text));
}

/// Sends a response or error straight to the connection, outside the credit
/// window: replies are small and must never wait behind a stalled stream.
void reply_frame(session_actor_type* self, std::string text) {
  auto& st = self->state;
  if (!st.conn)
    return;
  frame_batch batch;
  batch.frames.push_back(make_frame(std::move(text)));
  self->send(st.conn, frames_atom::value, std::move(batch));
}

void reply(session_actor_type* self, const protocol::request_id& id,
           boost::json::value result) {
  reply_frame(self, protocol::encode_result(id, std::move(result)));
}

void reply_error(session_actor_type* self, const protocol::request_id& id,
                 error_code code, std::string message) {
  log::info("request_error", {{"session_id", self->state.id},
                              {"code", static_cast<int>(code)},
                              {"error", message}});
  reply_frame(self, protocol::encode_error(
                      id, protocol::make_error(code, std::move(message))));
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
    case event_kind::output:
      return protocol::encode_output(ev.stream, ev.piece, seq);
    case event_kind::gap:
      return protocol::encode_stream_gap(ev.stream, ev.gap_bytes,
                                         ev.gap_frames, seq);
    case event_kind::started:
      return protocol::encode_process_event("process.started", "started",
                                            st.pid, st.pid, seq);
    case event_kind::paused:
      return protocol::encode_process_event("process.paused", "paused", st.pid,
                                            st.pid, seq);
    case event_kind::resumed:
      return protocol::encode_process_event("process.resumed", "resumed",
                                            st.pid, st.pid, seq);
    case event_kind::canceled:
      return protocol::encode_process_event("process.canceled", "canceled",
                                            st.pid, st.pid, seq);
    case event_kind::completed:
      return protocol::encode_completed(*ev.completion, seq);
    default:
      return protocol::encode_process_error(ev.error, seq);
  }
}

/// Hands unsent events to the connection while credit lasts, encoding each
/// one (and fixing its `seq`) the first time it leaves.
void pump(session_actor_type* self) {
  auto& st = self->state;
  if (!st.conn || st.send_idx >= st.events.size() || st.conn_credit <= 0)
    return;
  frame_batch batch;
  batch.credited = true;
  while (st.send_idx < st.events.size() && st.conn_credit > 0) {
    auto& ev = st.events[st.send_idx++];
    if (!ev.frame) {
      ev.seq = ++st.last_seq;
      ev.frame = make_frame(encode_event(st, ev, ev.seq));
      if (ev.kind == event_kind::output)
        ++st.stats->output_frames_total;
    }
    st.conn_credit -= static_cast<std::int64_t>(ev.frame->size());
    batch.frames.push_back(ev.frame);
  }
  self->send(st.conn, frames_atom::value, std::move(batch));
}

/// Removes the oldest event (acknowledged, or released from the window).
void pop_front(session_state& st) {
  auto& ev = st.events.front();
  st.buffered_bytes -= ev.raw_size;
  if (st.written_idx > 0) {
    st.written_window -= ev.frame ? ev.frame->size() : 0;
    --st.written_idx;
  }
  if (st.send_idx > 0)
    --st.send_idx;
  st.events.pop_front();
}

bool over_bounds(const session_state& st) {
  return st.buffered_bytes > st.cfg->max_buffer_bytes
         || st.events.size() > st.cfg->max_buffer_frames;
}

/// A client that never acks acknowledges implicitly: a written event goes
/// once more than `replay_window_bytes` were written after it, or earlier
/// when the buffer needs the room.
void release_implicit(session_state& st) {
  if (st.explicit_ack)
    return;
  while (st.written_idx > 0) {
    auto size = st.events.front().frame->size();
    bool beyond_window = st.written_window - size > st.cfg->replay_window_bytes;
    if (!beyond_window && !over_bounds(st))
      break;
    pop_front(st);
  }
}

/// `drop_oldest`: while over the bound, the oldest unsent output is dropped
/// and a `stream.gap` takes its place.
void drop_oldest(session_state& st) {
  auto i = st.send_idx;
  while (over_bounds(st) && i < st.events.size()) {
    auto& ev = st.events[i];
    if (ev.kind != event_kind::output || ev.frame) {
      ++i;
      continue;
    }
    retained_event gap;
    gap.kind = event_kind::gap;
    gap.stream = ev.stream;
    gap.gap_bytes = ev.raw_size;
    gap.gap_frames = 1;
    st.buffered_bytes -= ev.raw_size;
    st.dropped_bytes += ev.raw_size;
    st.stats->dropped_bytes_total += ev.raw_size;
    // Merge with a gap right before it, so a long drop is one event.
    if (i > st.send_idx && st.events[i - 1].kind == event_kind::gap
        && !st.events[i - 1].frame && st.events[i - 1].stream == ev.stream) {
      st.events[i - 1].gap_bytes += gap.gap_bytes;
      st.events[i - 1].gap_frames += 1;
      st.events.erase(st.events.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      ev = std::move(gap);
      ++i;
    }
  }
}

/// Grants the process credit for what the buffer can still take. Under
/// `block` a full buffer grants nothing, so the process stops reading and the
/// child blocks in write(2); under `drop_oldest` credit always flows.
void grant_credit(session_actor_type* self) {
  auto& st = self->state;
  if (!st.proc)
    return;
  std::uint64_t window = st.cfg->max_buffer_bytes;
  std::uint64_t used = st.proc_outstanding;
  if (st.policy == protocol::overflow_policy::block)
    used += st.buffered_bytes;
  if (st.policy == protocol::overflow_policy::block
      && st.events.size() >= st.cfg->max_buffer_frames)
    return;
  if (used >= window)
    return;
  auto room = window - used;
  // Small grants would cost a message per few bytes; wait for a useful size.
  auto min_grant = std::min<std::uint64_t>(window / 4,
                                           st.cfg->read_chunk_bytes / 4);
  if (room < min_grant && st.proc_outstanding > 0)
    return;
  st.proc_outstanding += room;
  self->send(st.proc, credit_atom::value, room);
}

void push_event(session_actor_type* self, retained_event ev) {
  auto& st = self->state;
  st.buffered_bytes += ev.raw_size;
  st.events.push_back(std::move(ev));
}

void push_simple(session_actor_type* self, event_kind kind) {
  retained_event ev;
  ev.kind = kind;
  push_event(self, std::move(ev));
  pump(self);
}

void on_output(session_actor_type* self, output_batch& batch) {
  auto& st = self->state;
  st.proc_outstanding -= std::min(st.proc_outstanding, batch.raw_bytes);
  st.stream_bytes[static_cast<int>(batch.stream)] += batch.raw_bytes;
  for (auto& piece : batch.pieces) {
    retained_event ev;
    ev.kind = event_kind::output;
    ev.stream = batch.stream;
    ev.raw_size = piece.raw_size();
    ev.piece = std::move(piece);
    push_event(self, std::move(ev));
  }
  release_implicit(st);
  if (st.policy == protocol::overflow_policy::drop_oldest)
    drop_oldest(st);
  pump(self);
  grant_credit(self);
}

void on_written(session_actor_type* self, std::uint64_t bytes) {
  auto& st = self->state;
  st.conn_credit += static_cast<std::int64_t>(bytes);
  st.written_carry += bytes;
  while (st.written_idx < st.send_idx) {
    auto size = st.events[st.written_idx].frame->size();
    if (size > st.written_carry)
      break;
    st.written_carry -= size;
    st.written_window += size;
    ++st.written_idx;
  }
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
  while (!st.events.empty() && st.events.front().seq != 0
         && st.events.front().seq <= st.acked_seq)
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
  boost::json::object p{{"state", st.process_state},
                        {"pid", st.pid},
                        {"pgid", st.pid},
                        {"exit_code", nullptr},
                        {"signal", nullptr},
                        {"started_at", st.started_at},
                        {"bytes",
                         {{"stdout", st.stream_bytes[0]},
                          {"stderr", st.stream_bytes[1]}}},
                        {"dropped_bytes", st.dropped_bytes},
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

void execute(session_actor_type* self, protocol::request& req) {
  auto& st = self->state;
  auto& params = std::get<protocol::execute_params>(req.params);
  if (st.proc) {
    reply_error(self, req.id, error_code::invalid_params,
                "A process is already running");
    return;
  }
  if (auto err = st.cfg->allowed.check(params)) {
    reply_error(self, req.id, err->code, err->message);
    return;
  }
  spawn_spec spec{params, st.cfg->shell, st.cfg->scrub_env};
  st.policy = params.on_overflow;
  st.pending_execute = req.id;
  st.proc = self->spawn<caf::monitored>(process_actor, caf::actor{self},
                                        std::move(spec), st.io, st.cfg,
                                        st.stats);
  st.proc_outstanding = 0;
  grant_credit(self);
}

void on_started(session_actor_type* self, std::int64_t pid) {
  auto& st = self->state;
  st.pid = pid;
  st.process_state = "running";
  st.paused = false;
  st.started_at = iso_now();
  st.last_completion = nullptr;
  st.stream_bytes[0] = st.stream_bytes[1] = 0;
  st.dropped_bytes = 0;
  reply(self, st.pending_execute,
        boost::json::object{{"status", "started"}, {"pid", pid}, {"pgid", pid}});
  push_simple(self, event_kind::started);
}

void on_done(session_actor_type* self, protocol::completion& c) {
  auto& st = self->state;
  st.proc = nullptr;
  st.paused = false;
  st.process_state = "exited";
  st.last_completion
    = std::make_shared<const protocol::completion>(std::move(c));
  retained_event ev;
  ev.kind = event_kind::completed;
  ev.completion = st.last_completion;
  push_event(self, std::move(ev));
  pump(self);
}

void control(session_actor_type* self, protocol::request& req) {
  auto& st = self->state;
  if (!st.proc) {
    reply_error(self, req.id, error_code::no_process, "No process is running");
    return;
  }
  auto type = std::get<protocol::control_params>(req.params).type;
  auto id = req.id;
  self->request(st.proc, caf::infinite, control_atom::value, type)
    .then(
      [=](const std::string& status) {
        auto& st = self->state;
        reply(self, id, boost::json::object{{"status", status}});
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
        reply_error(self, id, error_code::no_process, "No process is running");
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
  self->request(st.proc, caf::infinite, input_atom::value, std::move(p.data),
                p.eof)
    .then(
      [=](const input_result& r) {
        if (r.error != 0)
          reply_error(self, id, static_cast<error_code>(r.error), r.message);
        else
          reply(self, id, boost::json::object{{"written", r.written}});
      },
      [=](caf::error&) {
        reply_error(self, id, error_code::no_process, "No process is running");
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
      reply(self, req.id, boost::json::object{{"acked_seq", st.acked_seq}});
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
  st.send_idx = st.written_idx;
  st.written_carry = 0;
  auto gen = ++st.linger_gen;
  self->delayed_send(self, milliseconds{st.cfg->session_linger_ms},
                     timer_atom::value, timer_kind::linger, gen);
}

void on_peer_gone(session_actor_type* self, bool clean) {
  auto& st = self->state;
  if (clean && !st.detach_requested)
    end_session(self, st.cfg->close_grace_ms, "client_closed");
  else
    detach(self, clean ? "detach_requested" : "connection_lost");
}

} // namespace

caf::behavior session_actor(session_actor_type* self, std::string id,
                            caf::actor conn, boost::asio::io_context* io,
                            std::shared_ptr<const settings> cfg,
                            std::shared_ptr<server_stats> stats) {
  auto& st = self->state;
  st.id = std::move(id);
  st.conn = std::move(conn);
  st.io = io;
  st.cfg = std::move(cfg);
  st.stats = std::move(stats);
  st.conn_credit = static_cast<std::int64_t>(st.cfg->connection_window_bytes);
  ++st.stats->active_sessions;
  ++st.stats->sessions_total;
  self->monitor(st.conn);
  self->attach_functor([stats = st.stats] { --stats->active_sessions; });
  self->set_down_handler([=](caf::down_msg& msg) {
    auto& st = self->state;
    if (msg.source == st.proc) {
      // The process actor ended without `done` (it failed to spawn or
      // crashed): the client still gets a final word.
      st.proc = nullptr;
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
    [=](end_atom, std::uint64_t grace_ms) {
      end_session(self, grace_ms, "server_shutdown");
    },
    [=](timer_atom, timer_kind, std::uint64_t gen) {
      auto& st = self->state;
      if (st.phase == session_phase::detached && gen == st.linger_gen)
        end_session(self, st.cfg->cancel_grace_ms, "linger_expired");
    },
  };
}

} // namespace actorexec
