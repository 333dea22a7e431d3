#include "actors/connection.hpp"

#include <algorithm>
#include <chrono>

#include <caf/all.hpp>

#include "actors/log.hpp"
#include "protocol/encode.hpp"
#include "protocol/limits.hpp"
#include "protocol/peek.hpp"

namespace actorexec {

using namespace std::chrono;
using protocol::error_code;

namespace {

double unix_now() {
  return duration_cast<duration<double>>(system_clock::now().time_since_epoch())
      .count();
}

void send_frames(connection_actor_type* self, frame_batch frames) {
  auto& st = self->state;
  if (st.closing || frames.sizes.empty())
    return;
  std::uint64_t bytes = 0;
  for (auto size : frames.sizes)
    bytes += size;
  auto credited = frames.credited;
  if (!st.in_flight.empty() && st.in_flight.back().second == credited)
    st.in_flight.back().first += bytes;
  else
    st.in_flight.emplace_back(bytes, credited);
  if (!credited)
    st.uncredited_in_flight += bytes;
  st.out->send(std::move(frames));
}

void send_text(connection_actor_type* self, std::string text) {
  send_frames(self, frame_batch::of(std::move(text)));
}

void handle_frame(connection_actor_type* self, std::string& text);

/// Responses queued toward the client are over their bound: it does not
/// read them, so its further requests wait (spec section 6 for output,
/// issue 25 item 4 for replies).
bool reply_backlogged(const connection_state& st) {
  return st.uncredited_in_flight > st.cfg->max_reply_backlog_bytes;
}

/// Handles `text` now and gives its read charge back to the socket.
void handle_and_release(connection_actor_type* self, std::string& text) {
  auto charge = inbound_charge(text.size());
  if (!self->state.closing)
    handle_frame(self, text);
  self->state.out->consumed(charge);
}

/// Handles deferred frames, in order, while the backlog allows.
void drain_deferred(connection_actor_type* self) {
  auto& st = self->state;
  while (!st.deferred.empty() && !st.resuming && !reply_backlogged(st)) {
    auto text = std::move(st.deferred.front());
    st.deferred.pop_front();
    handle_and_release(self, text);
  }
}

/// A client frame: handled at once unless earlier ones wait.
void on_frame_in(connection_actor_type* self, std::string& text) {
  auto& st = self->state;
  if (!st.deferred.empty() || st.resuming || reply_backlogged(st)) {
    st.deferred.push_back(std::move(text));
    return;
  }
  handle_and_release(self, text);
}

/// Returns the credited part of newly written bytes to the session (the
/// session matches them to its whole frames).
void on_written(connection_actor_type* self, std::uint64_t bytes) {
  auto& st = self->state;
  std::uint64_t credited = 0;
  while (bytes > 0 && !st.in_flight.empty()) {
    auto& [run, is_credited] = st.in_flight.front();
    auto n = std::min(run, bytes);
    if (is_credited)
      credited += n;
    else
      st.uncredited_in_flight -= n;
    run -= n;
    bytes -= n;
    if (run == 0)
      st.in_flight.pop_front();
  }
  if (credited > 0 && st.session)
    self->send(st.session, written_atom::value, credited);
  drain_deferred(self);
}

void refuse_resume(connection_actor_type* self, const protocol::request& req) {
  auto& st = self->state;
  st.stats->count_rpc_error(static_cast<int>(error_code::resume_refused));
  log::info("request_error",
            {{"connection_id", st.id},
             {"code", static_cast<int>(error_code::resume_refused)}});
  send_text(self,
            protocol::encode_error(
                req.id, protocol::make_error(
                            error_code::resume_refused,
                            "Resume refused: unknown session, wrong token or "
                            "expired session")));
}

/// `resume`: the supervisor checks id and token; the surviving session then
/// binds us (closing any connection still attached with 4001), answers the
/// request and replays. Both steps await their answer, so no other frame of
/// this client is handled in between and no frame of the session is missed.
void resume(connection_actor_type* self, protocol::request& req) {
  auto& st = self->state;
  auto& p = std::get<protocol::resume_params>(req.params);
  st.resuming = true;
  auto refused = [=](caf::error&) {
    refuse_resume(self, req);
    self->state.resuming = false;
    drain_deferred(self);
  };
  self->request(st.supervisor, caf::infinite, resume_atom::value, p.session_id,
                p.resume_token)
      .await(
          [=](caf::actor& target) {
            self->request(target, caf::infinite, attach_atom::value,
                          caf::actor{self}, req)
                .await(
                    [=](bool) {
                      auto& st = self->state;
                      if (st.session != target) {
                        // The fresh session made for this connection is
                        // discarded.
                        self->send(st.session, end_atom::value,
                                   st.cfg->close_grace_ms);
                        st.session = target;
                        st.session_id =
                            std::get<protocol::resume_params>(req.params)
                                .session_id;
                      }
                      ++st.stats->resumes_total;
                      log::info("resumed", {{"connection_id", st.id},
                                            {"session_id", st.session_id}});
                      st.resuming = false;
                      drain_deferred(self);
                    },
                    refused);
          },
          refused);
}

/// Flow control is exempt from the rate limit: a refused `pong` or `ack`
/// would stall a client's output, not slow the client down.
bool is_flow_control(std::string_view method) {
  return method == "pong" || method == "ack";
}

bool rate_exempt(const protocol::decode_result& res) {
  return res.req &&
         (std::holds_alternative<protocol::pong_params>(res.req->params) ||
          std::holds_alternative<protocol::ack_params>(res.req->params));
}

/// Notes that a frame was let through: ends a run of refusals.
void note_within_rate(connection_state& st) {
  if (st.rate_refused > 0)
    log::info("rate_limit_lifted", {{"connection_id", st.id},
                                    {"session_id", st.session_id},
                                    {"refused", st.rate_refused}});
  st.rate_refused = 0;
}

/// A frame over the rate limit: a request with an id gets -32029 with
/// `retry_after_ms`; anything else (notifications, frames whose id is
/// unknown) is dropped.
void refuse_rate(connection_actor_type* self, const protocol::request_id& id,
                 std::string_view method, std::uint64_t retry_ms) {
  auto& st = self->state;
  auto code = static_cast<int>(error_code::rate_limited);
  auto lvl = st.rate_refused++ == 0 ? log::level::info : log::level::debug;
  if (log::enabled(lvl))
    log::write(lvl, "rate_limited",
               {{"connection_id", st.id},
                {"session_id", st.session_id},
                {"code", code},
                {"method", method.empty() ? boost::json::value(nullptr)
                                          : boost::json::value(method)},
                {"retry_after_ms", retry_ms},
                {"answered", id.has_value()}});
  if (!id)
    return;
  st.stats->count_rpc_error(code);
  auto err = protocol::make_error(error_code::rate_limited,
                                  "Rate limit exceeded: retry after " +
                                      std::to_string(retry_ms) + " ms");
  err.data = boost::json::object{{"retry_after_ms", retry_ms}};
  send_text(self, protocol::encode_error(id, err));
}

/// Decodes a frame within the rate limit. Every frame costs a token,
/// garbage included, except flow control. Over the limit only the envelope
/// is read (`protocol::peek`): a refused frame costs one scan, not a parse
/// into a document, which for nested arrays is many times its size.
std::optional<protocol::decode_result>
decode_within_rate(connection_actor_type* self, std::string_view text) {
  auto& st = self->state;
  auto retry_ms = st.bucket.take(self->clock().now());
  if (retry_ms != 0) {
    auto env = protocol::peek(text);
    if (!is_flow_control(env.method)) {
      refuse_rate(self, env.id, env.method, retry_ms);
      return std::nullopt;
    }
  }
  auto res = protocol::decode(text);
  if (rate_exempt(res)) {
    if (retry_ms == 0)
      st.bucket.refund();
    return res;
  }
  if (retry_ms != 0) {
    refuse_rate(self, res.id, res.req ? res.req->method : "", retry_ms);
    return std::nullopt;
  }
  note_within_rate(st);
  return res;
}

/// Params the method does not know: logged, and refused under
/// --strict-params (else ignored, and named in the response's warnings).
std::optional<protocol::rpc_error>
on_unknown_params(const connection_state& st, const protocol::request& req) {
  boost::json::array names;
  for (auto& n : req.unknown_params)
    names.emplace_back(n);
  log::info("unknown_params", {{"connection_id", st.id},
                               {"session_id", st.session_id},
                               {"method", req.method},
                               {"params", names},
                               {"refused", st.cfg->strict_params}});
  if (!st.cfg->strict_params)
    return std::nullopt;
  auto err = protocol::make_error(error_code::invalid_params,
                                  "Invalid params: unknown param '" +
                                      req.unknown_params.front() + "'");
  err.data = boost::json::object{{"unknown_params", std::move(names)}};
  return err;
}

void handle_frame(connection_actor_type* self, std::string& text) {
  auto& st = self->state;
  auto decoded = decode_within_rate(self, text);
  if (!decoded)
    return;
  auto& res = *decoded;
  if (res.req && !res.error)
    if (auto err = protocol::check_limits(*res.req, st.cfg->limits)) {
      res.error = std::move(err);
      res.req.reset();
    }
  if (res.req && !res.error && !res.req->unknown_params.empty())
    if (auto err = on_unknown_params(st, *res.req)) {
      res.error = std::move(err);
      res.req.reset();
    }
  if (res.ignore) {
    log::debug("notification_ignored", {{"connection_id", st.id}});
    return;
  }
  if (res.error) {
    log::info("request_error", {{"connection_id", st.id},
                                {"session_id", st.session_id},
                                {"code", static_cast<int>(res.error->code)},
                                {"error", res.error->message}});
    st.stats->count_rpc_error(static_cast<int>(res.error->code));
    send_text(self, protocol::encode_error(res.id, *res.error));
    return;
  }
  auto& req = *res.req;
  // Flow control at debug: a busy client acks many times a second, and
  // the info log must stay readable under load.
  auto lvl = is_flow_control(req.method) ? log::level::debug : log::level::info;
  if (log::enabled(lvl))
    log::write(lvl, "request",
               {{"connection_id", st.id},
                {"session_id", st.session_id},
                {"method", req.method},
                {"id", req.id ? *req.id : boost::json::value{}}});
  if (std::holds_alternative<protocol::ping_params>(req.params)) {
    send_text(self,
              protocol::encode_result(
                  req.id, boost::json::object{{"pong", true},
                                              {"timestamp", unix_now()}}));
  } else if (std::holds_alternative<protocol::pong_params>(req.params)) {
    // The answer to our JSON ping: nothing to do.
  } else if (std::holds_alternative<protocol::hook_status_params>(req.params)) {
    send_text(self, protocol::encode_result(
                        req.id, boost::json::object{{"enabled", false}}));
  } else if (std::holds_alternative<protocol::resume_params>(req.params)) {
    resume(self, req);
  } else {
    self->send(st.session, request_atom::value, std::move(req));
  }
}

bool from(connection_actor_type* self, const caf::actor& who) {
  return who &&
         self->current_sender() == caf::actor_cast<caf::strong_actor_ptr>(who);
}

} // namespace

caf::behavior connection_actor(connection_actor_type* self, std::uint64_t id,
                               outbox_ptr out, caf::actor supervisor,
                               std::shared_ptr<const settings> cfg,
                               std::shared_ptr<server_stats> stats) {
  auto& st = self->state;
  st.id = id;
  st.out = std::move(out);
  st.supervisor = std::move(supervisor);
  st.cfg = std::move(cfg);
  st.stats = std::move(stats);
  ++st.stats->active_connections;
  ++st.stats->connections_total;
  self->attach_functor([stats = st.stats] { --stats->active_connections; });
  st.bucket = token_bucket{st.cfg->rate_limit_rps, st.cfg->rate_limit_burst,
                           self->clock().now()};
  // Frames that arrive before the session exists wait in the mailbox: await
  // suspends everything else until the supervisor answered.
  self->request(st.supervisor, caf::infinite, open_atom::value,
                caf::actor{self})
      .await(
          [=](caf::actor& session, std::string& sid, std::string& token) {
            auto& st = self->state;
            st.session = std::move(session);
            st.session_id = sid;
            log::info("connection_open",
                      {{"connection_id", st.id}, {"session_id", sid}});
            send_text(self, protocol::encode_connected(
                                sid, token, st.cfg->heartbeat_interval_ms));
          },
          [=](caf::error&) {
            auto& st = self->state;
            log::warn("session_limit", {{"connection_id", st.id}});
            st.stats->count_rpc_error(
                static_cast<int>(error_code::session_limit));
            send_text(self, protocol::encode_error(
                                std::nullopt, protocol::make_error(
                                                  error_code::session_limit,
                                                  "Session limit exceeded")));
            st.closing = true;
            st.out->close(close_reason::session_limit,
                          "session limit exceeded");
          });
  return {
      [=](frame_in_atom, std::string& text) { on_frame_in(self, text); },
      [=](written_atom, std::uint64_t bytes) { on_written(self, bytes); },
      [=](frames_atom, frame_batch& batch) {
        if (from(self, self->state.session))
          send_frames(self, std::move(batch));
      },
      [=](close_atom, close_reason why, std::string& detail) {
        auto& st = self->state;
        st.closing = true;
        st.out->close(why, std::move(detail));
      },
      [=](peer_gone_atom, bool clean, std::uint16_t code) {
        auto& st = self->state;
        log::info("connection_closed", {{"connection_id", st.id},
                                        {"session_id", st.session_id},
                                        {"clean", clean},
                                        {"code", code}});
        if (st.session && !st.closing)
          self->send(st.session, peer_gone_atom::value, clean);
        self->quit();
      },
      // The JSON ping's clock is the socket's (websocket_session): a timer
      // of ours would keep this actor alive until it fired, long after the
      // connection ended.
      [=](timer_atom, timer_kind, std::uint64_t) {
        send_text(self, protocol::encode_ping(unix_now()));
      },
  };
}

} // namespace actorexec
