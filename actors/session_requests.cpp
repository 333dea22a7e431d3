// The session actor's handling of client requests and of its process's
// start and end (see session_parts.hpp for how the actor is split).

#include <chrono>
#include <ctime>
#include <optional>

#include <caf/all.hpp>

#include "actors/log.hpp"
#include "actors/process.hpp"
#include "actors/session_parts.hpp"
#include "protocol/encode.hpp"

namespace actorexec::session_parts {

using namespace std::chrono;
using protocol::error_code;

void reply_frame(session_actor_type* self, std::string text) {
  auto& st = self->state;
  if (!st.conn)
    return;
  frame_batch batch;
  batch.add(text);
  self->send(st.conn, frames_atom::value, std::move(batch));
}

void reply(session_actor_type* self, const protocol::request_id& id,
           boost::json::value result, const std::vector<std::string>& unknown) {
  protocol::add_warnings(result, unknown);
  reply_frame(self, protocol::encode_result(id, std::move(result)));
}

void reply_error(session_actor_type* self, const protocol::request_id& id,
                 error_code code, std::string message,
                 boost::json::value data) {
  self->state.stats->count_rpc_error(static_cast<int>(code));
  log::info("request_error", {{"session_id", self->state.id},
                              {"code", static_cast<int>(code)},
                              {"error", message}});
  auto error = protocol::make_error(code, std::move(message));
  error.data = std::move(data);
  reply_frame(self, protocol::encode_error(id, error));
}

namespace {

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
  st.flow->start_process(params.on_overflow);
  st.pending_execute = req.id;
  st.pending_unknown = req.unknown_params;
  st.awaiting_start = true;
  st.execute_at = self->clock().now();
  st.proc = self->spawn<caf::monitored>(process_actor, caf::actor{self},
                                        std::move(spec), st.spawner, st.cfg,
                                        st.stats);
  grant_credit(self);
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
          [=](protocol::control_status status) {
            using protocol::control_status;
            using protocol::process_phase;
            auto& st = self->state;
            reply(self, id,
                  boost::json::object{{"status", protocol::to_string(status)}},
                  unknown);
            switch (status) {
            case control_status::paused:
              st.paused = true;
              st.proc_phase = process_phase::paused;
              push_simple(self, event_kind::paused);
              break;
            case control_status::resumed:
              st.paused = false;
              st.proc_phase = process_phase::running;
              push_simple(self, event_kind::resumed);
              break;
            case control_status::canceled:
              st.proc_phase = process_phase::terminating;
              push_simple(self, event_kind::canceled);
              break;
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

} // namespace

boost::json::value status_of(session_actor_type* self) {
  auto& st = self->state;
  auto& flow = *st.flow;
  boost::json::object result{{"session_id", st.id},
                             {"state", to_string(st.phase)},
                             {"last_seq", flow.last_seq()},
                             {"acked_seq", flow.acked_seq()},
                             {"buffered_bytes", flow.buffered_bytes()},
                             {"buffered_frames", flow.buffered_events()}};
  if (st.pid == 0) {
    result["process"] = nullptr;
    return result;
  }
  boost::json::object p{
      {"state", protocol::to_string(st.proc_phase)},
      {"pid", st.pid},
      {"pgid", st.pid},
      {"exit_code", nullptr},
      {"signal", nullptr},
      {"started_at", st.started_at},
      {"bytes",
       {{"stdout", st.stream_bytes[0]}, {"stderr", st.stream_bytes[1]}}},
      {"dropped_bytes", flow.dropped_bytes()},
      {"blocked_ms", flow.blocked_ns() / 1000000},
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

void on_started(session_actor_type* self, std::int64_t pid) {
  auto& st = self->state;
  st.pid = pid;
  st.awaiting_start = false;
  st.flow->process_started();
  st.stats->spawn_latency.observe(
      std::chrono::duration_cast<std::chrono::nanoseconds>(self->clock().now() -
                                                           st.execute_at));
  st.proc_phase = protocol::process_phase::running;
  st.paused = false;
  st.started_at = log::utc_seconds();
  st.last_completion = nullptr;
  st.stream_bytes[0] = st.stream_bytes[1] = 0;
  reply(self, st.pending_execute,
        boost::json::object{{"status", "started"}, {"pid", pid}, {"pgid", pid}},
        st.pending_unknown);
  push_simple(self, event_kind::started);
}

void on_failed(session_actor_type* self, int code, std::string what) {
  auto& st = self->state;
  st.proc = nullptr;
  st.awaiting_start = false;
  reply_error(self, st.pending_execute, static_cast<error_code>(code),
              std::move(what));
}

void on_done(session_actor_type* self, protocol::completion& c) {
  auto& st = self->state;
  st.proc = nullptr;
  st.paused = false;
  st.proc_phase = protocol::process_phase::exited;
  st.last_completion =
      std::make_shared<const protocol::completion>(std::move(c));
  retained_event ev;
  ev.kind = event_kind::completed;
  ev.detail = std::make_shared<const event_detail>(
      event_detail{st.last_completion, {}});
  st.flow->push_event(std::move(ev));
  pump(self);
  if (st.draining)
    finish_drain(self);
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
    st.flow->on_ack(ack->seq);
    grant_credit(self);
    if (req.id)
      reply(self, req.id,
            boost::json::object{{"acked_seq", st.flow->acked_seq()}},
            req.unknown_params);
  } else if (std::holds_alternative<protocol::detach_params>(req.params)) {
    st.detach_requested = true;
    reply(self, req.id, boost::json::object{{"status", "detached"}});
  } else {
    reply_error(self, req.id, error_code::internal_error,
                "Method not handled by the session: " + req.method);
  }
}

} // namespace actorexec::session_parts
