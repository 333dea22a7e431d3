#include "actors/connection.hpp"

#include <algorithm>
#include <chrono>

#include <caf/all.hpp>

#include "actors/log.hpp"
#include "protocol/encode.hpp"
#include "protocol/limits.hpp"

namespace actorexec {

using namespace std::chrono;
using protocol::error_code;

namespace {

/// Close code sent with a session-limit refusal (policy violation).
constexpr std::uint16_t close_policy = 1008;

double unix_now() {
  return duration_cast<duration<double>>(system_clock::now().time_since_epoch())
      .count();
}

void send_frames(connection_actor_type* self, frame_list frames,
                 bool credited) {
  auto& st = self->state;
  if (st.closing || frames.sizes.empty())
    return;
  std::uint64_t bytes = 0;
  for (auto size : frames.sizes)
    bytes += size;
  if (!st.in_flight.empty() && st.in_flight.back().second == credited)
    st.in_flight.back().first += bytes;
  else
    st.in_flight.emplace_back(bytes, credited);
  st.out->send(std::move(frames));
}

void send_text(connection_actor_type* self, std::string text) {
  send_frames(self, frame_list::of(std::move(text)), false);
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
    run -= n;
    bytes -= n;
    if (run == 0)
      st.in_flight.pop_front();
  }
  if (credited > 0 && st.session)
    self->send(st.session, written_atom::value, credited);
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
                    },
                    [=](caf::error&) { refuse_resume(self, req); });
          },
          [=](caf::error&) { refuse_resume(self, req); });
}

/// Flow control is exempt from the rate limit: a refused `pong` or `ack`
/// would stall a client's output, not slow the client down.
bool rate_exempt(const protocol::decode_result& res) {
  return res.req &&
         (std::holds_alternative<protocol::pong_params>(res.req->params) ||
          std::holds_alternative<protocol::ack_params>(res.req->params));
}

/// Takes a token for the frame. Without one, a request with an id gets
/// -32029 with `retry_after_ms`; anything else (notifications, frames whose
/// id is unknown) is dropped. Every frame costs a token, garbage included.
bool within_rate(connection_actor_type* self,
                 const protocol::decode_result& res) {
  auto& st = self->state;
  if (rate_exempt(res))
    return true;
  auto retry_ms = st.bucket.take(self->clock().now());
  if (retry_ms == 0) {
    if (st.rate_refused > 0)
      log::info("rate_limit_lifted", {{"connection_id", st.id},
                                      {"session_id", st.session_id},
                                      {"refused", st.rate_refused}});
    st.rate_refused = 0;
    return true;
  }
  auto code = static_cast<int>(error_code::rate_limited);
  auto lvl = st.rate_refused++ == 0 ? log::level::info : log::level::debug;
  if (log::enabled(lvl))
    log::write(
        lvl, "rate_limited",
        {{"connection_id", st.id},
         {"session_id", st.session_id},
         {"code", code},
         {"method", res.req ? boost::json::value(res.req->method) : nullptr},
         {"retry_after_ms", retry_ms},
         {"answered", res.id.has_value()}});
  if (!res.id)
    return false;
  st.stats->count_rpc_error(code);
  auto err = protocol::make_error(error_code::rate_limited,
                                  "Rate limit exceeded: retry after " +
                                      std::to_string(retry_ms) + " ms");
  err.data = boost::json::object{{"retry_after_ms", retry_ms}};
  send_text(self, protocol::encode_error(res.id, err));
  return false;
}

void on_frame(connection_actor_type* self, std::string& text) {
  auto& st = self->state;
  auto res = protocol::decode(text);
  if (!within_rate(self, res))
    return;
  if (res.req && !res.error)
    if (auto err = protocol::check_limits(*res.req, st.cfg->limits)) {
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
  log::info("request", {{"connection_id", st.id},
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

void arm_json_ping(connection_actor_type* self) {
  auto ms = self->state.cfg->json_ping_interval_ms;
  if (ms > 0)
    self->delayed_send(self, milliseconds{ms}, timer_atom::value,
                       timer_kind::ping, std::uint64_t{0});
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
            arm_json_ping(self);
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
            st.out->close(close_policy, "session limit exceeded");
          });
  return {
      [=](frame_in_atom, std::string& text) {
        if (!self->state.closing)
          on_frame(self, text);
      },
      [=](written_atom, std::uint64_t bytes) { on_written(self, bytes); },
      [=](frames_atom, frame_batch& batch) {
        if (from(self, self->state.session))
          send_frames(self,
                      frame_list{std::make_shared<const std::string>(
                                     std::move(batch.text)),
                                 std::move(batch.sizes)},
                      batch.credited);
      },
      [=](close_atom, std::uint16_t code, std::string& reason) {
        auto& st = self->state;
        st.closing = true;
        st.out->close(code, std::move(reason));
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
      [=](timer_atom, timer_kind, std::uint64_t) {
        send_text(self, protocol::encode_ping(unix_now()));
        arm_json_ping(self);
      },
  };
}

} // namespace actorexec
