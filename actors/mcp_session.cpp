// The MCP session actor: its streams (kept for resumes), the dispatch of
// client messages, and its lifecycle. The tools: mcp_session_tools.cpp.

#include "actors/mcp_session.hpp"

#include <chrono>

#include <caf/all.hpp>

#include "actors/log.hpp"
#include "actors/mcp_session_parts.hpp"
#include "actors/timer_relay.hpp"

namespace actorexec {

using namespace std::chrono;
using namespace mcp_parts;
namespace mcp = protocol::mcp;
namespace json = boost::json;
using protocol::error_code;

namespace mcp_parts {

namespace {

/// What a stream keeps for a resume: its last events, up to these bounds
/// (progress notifications come first to go; a response is one event).
constexpr std::size_t max_stream_events = 256;
constexpr std::size_t max_stream_bytes = 2 << 20;

/// Finished streams kept for a resume of a response the client lost.
constexpr std::size_t max_done_streams = 8;

std::string event_id(std::uint64_t stream, std::uint64_t n) {
  return std::to_string(stream) + "-" + std::to_string(n);
}

/// Forgets the oldest finished streams beyond the bound.
void prune_streams(mcp_session_state& st) {
  std::size_t done = 0;
  for (auto& kv : st.streams)
    done += kv.second.done ? 1 : 0;
  for (auto i = st.streams.begin(); done > max_done_streams;) {
    if (i->second.done) {
      i = st.streams.erase(i);
      --done;
    } else {
      ++i;
    }
  }
}

} // namespace

void emit(self_type self, std::uint64_t stream, std::string json) {
  auto& st = self->state;
  auto i = st.streams.find(stream);
  if (i == st.streams.end())
    return;
  auto& s = i->second;
  auto n = s.next_event++;
  if (s.sink)
    s.sink->event(event_id(stream, n), json);
  s.bytes += json.size();
  s.events.emplace_back(n, std::move(json));
  while (s.events.size() > 1 &&
         (s.events.size() > max_stream_events || s.bytes > max_stream_bytes)) {
    s.bytes -= s.events.front().second.size();
    s.events.pop_front();
  }
}

void respond(self_type self, std::uint64_t stream, std::string json) {
  auto& st = self->state;
  emit(self, stream, std::move(json));
  auto i = st.streams.find(stream);
  if (i == st.streams.end())
    return;
  i->second.done = true;
  if (auto sink = std::move(i->second.sink))
    sink->done();
  prune_streams(st);
  maybe_linger(self);
}

void respond_result(self_type self, std::uint64_t stream,
                    const protocol::request_id& id, json::value result) {
  respond(self, stream, mcp::encode_result(id, std::move(result)));
}

void respond_error(self_type self, std::uint64_t stream,
                   const protocol::request_id& id,
                   const protocol::rpc_error& error) {
  self->state.stats->count_rpc_error(static_cast<int>(error.code));
  log::info("mcp_error", {{"session_id", self->state.id},
                          {"code", static_cast<int>(error.code)},
                          {"error", error.message}});
  respond(self, stream, mcp::encode_error(id, error));
}

void maybe_linger(self_type self) {
  auto& st = self->state;
  // A task is durable: the session waits for its client until its ttl.
  if (!st.waits.empty() || !st.tasks.empty())
    return;
  for (auto& kv : st.streams)
    if (kv.second.sink)
      return;
  auto gen = ++st.linger_gen;
  arm_timer(self, milliseconds{st.cfg->session_linger_ms}, timer_kind::linger,
            gen);
}

} // namespace mcp_parts

namespace {

/// A new stream for `sink`; the priming event (an id, no data) lets the
/// client resume it from the start.
std::uint64_t open_stream(self_type self, mcp_sink_ptr sink) {
  auto& st = self->state;
  auto id = st.next_stream++;
  auto& s = st.streams[id];
  s.id = id;
  s.sink = std::move(sink);
  s.sink->event(std::to_string(id) + "-0", {});
  return id;
}

/// Any use of the session: the linger timer, if armed, is moot.
void touch(self_type self) {
  ++self->state.linger_gen;
}

void end_session(self_type self, std::uint64_t grace_ms, const char* why) {
  auto& st = self->state;
  log::info("mcp_session_end", {{"session_id", st.id}, {"reason", why}});
  terminate_processes(self, grace_ms);
  for (auto& kv : st.streams)
    if (auto sink = std::move(kv.second.sink))
      sink->done();
  self->quit();
}

const char* const log_levels[] = {"debug", "info",     "notice", "warning",
                                  "error", "critical", "alert",  "emergency"};

json::value set_log_level(const json::object& params, bool& ok) {
  auto lv = params.if_contains("level");
  ok = false;
  if (lv && lv->is_string())
    for (auto l : log_levels)
      ok = ok || lv->get_string() == l;
  return json::object{};
}

/// A request: answered on its own stream.
void on_call(self_type self, mcp::message& msg, mcp_sink_ptr sink) {
  auto& st = self->state;
  touch(self);
  auto stream = open_stream(self, std::move(sink));
  auto& m = msg.method;
  if (auto retry_ms = st.bucket.take(self->clock().now())) {
    auto err = protocol::make_error(error_code::rate_limited,
                                    "Rate limit exceeded: retry after " +
                                        std::to_string(retry_ms) + " ms");
    err.data = json::object{{"retry_after_ms", retry_ms}};
    return respond_error(self, stream, msg.id, err);
  }
  log::debug("mcp_request", {{"session_id", st.id}, {"method", m}});
  if (m == "initialize") {
    std::string requested;
    if (auto v = msg.params.if_contains("protocolVersion"); v && v->is_string())
      requested = std::string{v->get_string().data(), v->get_string().size()};
    st.version = std::string{mcp::negotiate(requested)};
    return respond_result(self, stream, msg.id,
                          mcp::initialize_result(st.version, ACTOREXEC_VERSION,
                                                 st.version >= "2025-11-25"));
  }
  if (m == "ping")
    return respond_result(self, stream, msg.id, json::object{});
  if (m == "tools/list")
    return respond_result(self, stream, msg.id,
                          json::object{{"tools", mcp::tool_definitions()}});
  if (m == "logging/setLevel") {
    bool ok = false;
    auto result = set_log_level(msg.params, ok);
    if (!ok)
      return respond_error(
          self, stream, msg.id,
          protocol::make_error(error_code::invalid_params,
                               "Invalid params: 'level' must be one of debug, "
                               "info, notice, warning, error, critical, "
                               "alert, emergency"));
    return respond_result(self, stream, msg.id, std::move(result));
  }
  if (m == "tools/call") {
    auto decoded = mcp::decode_tool_call(msg.params, st.cfg->limits);
    if (auto err = std::get_if<protocol::rpc_error>(&decoded))
      return respond_error(self, stream, msg.id, *err);
    return call_tool(self, stream, msg.id, std::get<mcp::tool_call>(decoded));
  }
  if (on_task_request(self, stream, msg))
    return;
  respond_error(self, stream, msg.id,
                protocol::make_error(error_code::method_not_found,
                                     "Method not found: " + m));
}

/// A notification (or a response, which this server never asks for).
void on_note(self_type self, mcp::message& msg) {
  touch(self);
  if (msg.method == "notifications/cancelled")
    if (auto id = msg.params.if_contains("requestId"))
      on_cancelled(self, *id);
  maybe_linger(self);
}

/// A GET: the session's own stream (a new one replaces it), or the stream
/// a Last-Event-ID names, replayed after that event.
bool on_listen(self_type self, mcp_sink_ptr sink, const std::string& last) {
  auto& st = self->state;
  touch(self);
  if (last.empty()) {
    if (auto old = st.streams.find(st.listen_stream); old != st.streams.end())
      if (auto prev = std::move(old->second.sink))
        prev->done();
    st.listen_stream = open_stream(self, std::move(sink));
    return true;
  }
  auto dash = last.find('-');
  if (dash == std::string::npos)
    return false;
  std::uint64_t stream = 0;
  std::uint64_t after = 0;
  try {
    stream = std::stoull(last.substr(0, dash));
    after = std::stoull(last.substr(dash + 1));
  } catch (const std::exception&) {
    return false;
  }
  auto i = st.streams.find(stream);
  if (i == st.streams.end())
    return false;
  auto& s = i->second;
  if (auto prev = std::move(s.sink))
    prev->done();
  for (auto& [n, text] : s.events)
    if (n > after)
      sink->event(std::to_string(stream) + "-" + std::to_string(n), text);
  if (s.done)
    sink->done();
  else
    s.sink = std::move(sink);
  log::info("mcp_resume", {{"session_id", st.id},
                           {"stream", stream},
                           {"after", after},
                           {"done", s.done}});
  return true;
}

void on_sink_gone(self_type self, const mcp_sink_ptr& sink) {
  for (auto& kv : self->state.streams)
    if (kv.second.sink == sink)
      kv.second.sink = nullptr;
  maybe_linger(self);
}

void on_timer(self_type self, timer_kind kind, std::uint64_t gen) {
  auto& st = self->state;
  switch (kind) {
  case timer_kind::wait:
    return on_wait_timer(self, gen);
  case timer_kind::progress:
    return on_progress_tick(self);
  case timer_kind::task_ttl:
    return on_task_ttl(self, gen);
  case timer_kind::drain:
    return end_session(self, st.cfg->close_grace_ms, "server_shutdown");
  default:
    if (gen == st.linger_gen) {
      ++st.stats->sessions_expired_total;
      end_session(self, st.cfg->cancel_grace_ms, "linger_expired");
    }
  }
}

/// The server drains: no new process; running ones get `grace_ms`, then
/// the session ends with them.
void on_shutdown(self_type self, std::uint64_t grace_ms) {
  auto& st = self->state;
  if (st.draining) {
    if (grace_ms == 0)
      end_session(self, 0, "server_shutdown");
    return;
  }
  st.draining = true;
  if (running_processes(st) == 0)
    return end_session(self, st.cfg->close_grace_ms, "server_shutdown");
  arm_timer(self, milliseconds{grace_ms}, timer_kind::drain, 0);
}

void on_down(self_type self, caf::down_msg& msg) {
  auto& st = self->state;
  auto i = st.by_actor.find(msg.source);
  if (i == st.by_actor.end())
    return;
  // Ended without `done`: its group was killed on the way out.
  protocol::completion c;
  c.status = protocol::end_status::failed;
  c.error = "process supervision failed";
  on_done(self, msg.source, c);
}

} // namespace

caf::behavior mcp_session_actor(mcp_session_actor_type* self, std::string id,
                                child_spawner spawner,
                                std::shared_ptr<const settings> cfg,
                                std::shared_ptr<server_stats> stats) {
  auto& st = self->state;
  st.id = std::move(id);
  st.spawner = std::move(spawner);
  st.cfg = std::move(cfg);
  st.stats = std::move(stats);
  st.bucket = token_bucket{st.cfg->rate_limit_rps, st.cfg->rate_limit_burst,
                           self->clock().now()};
  ++st.stats->active_sessions;
  ++st.stats->sessions_total;
  self->attach_functor([stats = st.stats] { --stats->active_sessions; });
  self->set_down_handler([=](caf::down_msg& msg) { on_down(self, msg); });
  // Until its first stream opens, it is idle like any other.
  maybe_linger(self);
  auto from = [self] {
    return caf::actor_cast<caf::actor_addr>(self->current_sender());
  };
  return {
      [=](mcp_call_atom, mcp::message& msg, mcp_sink_ptr& sink) {
        on_call(self, msg, std::move(sink));
      },
      [=](mcp_note_atom, mcp::message& msg) { on_note(self, msg); },
      [=](mcp_listen_atom, mcp_sink_ptr& sink, const std::string& last) {
        return on_listen(self, std::move(sink), last);
      },
      [=](mcp_end_atom) {
        end_session(self, self->state.cfg->close_grace_ms, "deleted");
        return true;
      },
      [=](sink_gone_atom, const mcp_sink_ptr& sink) {
        on_sink_gone(self, sink);
      },
      [=](started_atom, std::int64_t pid, std::int64_t) {
        on_started(self, from(), pid);
      },
      [=](failed_atom, int, std::string& what) {
        on_failed(self, from(), std::move(what));
      },
      [=](output_atom, output_batch& batch) { on_output(self, from(), batch); },
      [=](done_atom, protocol::completion& c) { on_done(self, from(), c); },
      [=](shutdown_atom, std::uint64_t grace_ms) {
        on_shutdown(self, grace_ms);
      },
      [=](timer_atom, timer_kind kind, std::uint64_t gen) {
        on_timer(self, kind, gen);
      },
  };
}

} // namespace actorexec
