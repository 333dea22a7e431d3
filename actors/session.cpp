// The session actor: its lifecycle (attach, detach, end, drain, timers) and
// the flow of its events toward the client. Requests: session_requests.cpp.

#include "actors/session.hpp"

#include <chrono>

#include <caf/all.hpp>

#include "actors/log.hpp"
#include "actors/session_parts.hpp"
#include "actors/timer_relay.hpp"
#include "protocol/encode.hpp"

namespace actorexec {

using namespace std::chrono;
using namespace session_parts;
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

namespace session_parts {

namespace {

/// The frame of a retained event other than output.
std::string encode_event(const retained_event& ev, std::uint64_t seq) {
  switch (ev.kind) {
  case event_kind::gap:
    return protocol::encode_stream_gap(ev.stream, ev.gap_bytes, ev.gap_frames,
                                       seq);
  case event_kind::started:
    return protocol::encode_process_event("process.started", "started", ev.pid,
                                          ev.pid, seq);
  case event_kind::paused:
    return protocol::encode_process_event("process.paused", "paused", ev.pid,
                                          ev.pid, seq);
  case event_kind::resumed:
    return protocol::encode_process_event("process.resumed", "resumed", ev.pid,
                                          ev.pid, seq);
  case event_kind::canceled:
    return protocol::encode_process_event("process.canceled", "canceled",
                                          ev.pid, ev.pid, seq);
  case event_kind::completed:
    return protocol::encode_completed(*ev.detail->completion, seq);
  default:
    return protocol::encode_process_error(ev.detail->error, seq);
  }
}

} // namespace

void pump(session_actor_type* self) {
  auto& st = self->state;
  if (!st.conn)
    return;
  auto batch = st.flow->next_batch(encode_event);
  if (batch)
    self->send(st.conn, frames_atom::value, std::move(*batch));
}

void grant_credit(session_actor_type* self) {
  auto& st = self->state;
  if (!st.proc)
    return;
  if (auto credit = st.flow->take_credit(self->clock().now()))
    self->send(st.proc, credit_atom::value, credit);
}

void push_simple(session_actor_type* self, event_kind kind) {
  retained_event ev;
  ev.kind = kind;
  ev.pid = self->state.pid;
  self->state.flow->push_event(std::move(ev));
  pump(self);
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

void finish_drain(session_actor_type* self) {
  auto& st = self->state;
  if (st.conn)
    self->send(st.conn, close_atom::value, close_reason::shutdown,
               std::string{"server shutting down"});
  end_session(self, st.cfg->close_grace_ms, "server_shutdown");
}

namespace {

void on_output(session_actor_type* self, output_batch& batch) {
  auto& st = self->state;
  st.stream_bytes[static_cast<int>(batch.stream)] += batch.raw_bytes;
  st.flow->on_output(batch);
  pump(self);
  grant_credit(self);
}

void on_written(session_actor_type* self, std::uint64_t bytes) {
  self->state.flow->on_written(bytes);
  pump(self);
  grant_credit(self);
}

void detach(session_actor_type* self, const char* why) {
  auto& st = self->state;
  log::info("session_detach", {{"session_id", st.id}, {"reason", why}});
  st.conn = nullptr;
  st.phase = session_phase::detached;
  ++st.stats->detached_sessions;
  st.flow->on_detach();
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

/// A resume from before the oldest retained event: the events in between
/// are gone. One `stream.gap` stands in their place; it carries the seq of
/// the last missing event, so the client's seq stays contiguous.
void report_resume_gap(session_actor_type* self, std::uint64_t last_seq,
                       const event_flow::missed& m) {
  auto& st = self->state;
  log::warn("resume_gap", {{"session_id", st.id},
                           {"last_seq", last_seq},
                           {"first_kept", m.last + 1},
                           {"dropped_bytes", m.bytes},
                           {"exact", m.exact}});
  reply_frame(self, protocol::encode_stream_gap(stream_kind::out, m.bytes,
                                                m.events, m.last, m.exact));
}

/// Binds `conn` (closing a connection still attached as taken over), answers
/// the `resume` request and replays every retained event after `last_seq`.
bool attach(session_actor_type* self, caf::actor& conn,
            const protocol::request& req) {
  auto& st = self->state;
  auto last_seq = std::get<protocol::resume_params>(req.params).last_seq;
  if (st.conn && st.conn != conn) {
    self->send(st.conn, close_atom::value, close_reason::taken_over,
               std::string{"session taken over by a resume"});
  }
  if (st.phase == session_phase::detached)
    --st.stats->detached_sessions;
  st.phase = session_phase::attached;
  st.detach_requested = false;
  ++st.linger_gen; // the linger timer is moot
  st.conn = conn;
  self->monitor(conn);
  auto missed = st.flow->on_attach(last_seq);
  auto proc = status_of(self).as_object()["process"];
  log::info("session_attach", {{"session_id", st.id}, {"last_seq", last_seq}});
  reply(self, req.id,
        boost::json::object{{"status", "resumed"},
                            {"session_id", st.id},
                            {"last_seq", st.flow->last_seq()},
                            {"process", proc}},
        req.unknown_params);
  if (missed)
    report_resume_gap(self, last_seq, *missed);
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

/// A monitored actor ended: the process actor without `done` (it crashed;
/// its group was killed on the way out, and the client still gets a final
/// word), or the connection actor.
void on_down(session_actor_type* self, caf::down_msg& msg) {
  auto& st = self->state;
  if (msg.source == st.proc) {
    st.proc = nullptr;
    if (st.proc_phase != protocol::process_phase::exited && st.pid != 0) {
      retained_event err;
      err.kind = event_kind::error;
      err.detail = std::make_shared<const event_detail>(
          event_detail{nullptr, "process supervision failed: " +
                                    caf::to_string(msg.reason)});
      st.flow->push_event(std::move(err));
      protocol::completion c;
      c.status = protocol::end_status::failed;
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
}

} // namespace

} // namespace session_parts

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
  st.flow.emplace(st.cfg, st.stats);
  ++st.stats->active_sessions;
  ++st.stats->sessions_total;
  self->monitor(st.conn);
  self->attach_functor([stats = st.stats] { --stats->active_sessions; });
  self->set_down_handler([=](caf::down_msg& msg) { on_down(self, msg); });
  return {
      [=](request_atom, protocol::request& req) { on_request(self, req); },
      [=](started_atom, std::int64_t pid, std::int64_t) {
        on_started(self, pid);
      },
      [=](failed_atom, int code, std::string& what) {
        on_failed(self, code, std::move(what));
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
