#include "actors/mcp_connection.hpp"

#include <caf/all.hpp>

#include "actors/log.hpp"

namespace actorexec {

namespace mcp = protocol::mcp;
using protocol::error_code;

namespace {

/// The sink of a WebSocket: every message of every stream becomes a frame,
/// sent through the connection actor (which bounds what waits unwritten).
/// Event ids mean nothing here: a WebSocket is not resumed.
class frame_sink : public mcp_sink {
public:
  explicit frame_sink(caf::actor conn) : conn_(std::move(conn)) {}
  void event(std::string, std::string json) override {
    if (!json.empty())
      caf::anon_send(conn_, frames_atom::value,
                     frame_batch::of(std::move(json)));
  }
  void done() override {}
  void bound(caf::actor, std::string) override {}
  void refuse(int, std::string json) override {
    caf::anon_send(conn_, frames_atom::value, frame_batch::of(std::move(json)));
  }

private:
  caf::actor conn_;
};

void send_frame(mcp_connection_actor_type* self, std::string json) {
  auto& st = self->state;
  if (st.closing)
    return;
  st.in_flight += json.size();
  st.out->send(frame_batch::of(std::move(json)));
}

void send_error(mcp_connection_actor_type* self, const protocol::request_id& id,
                error_code code, std::string text) {
  self->state.stats->count_rpc_error(static_cast<int>(code));
  send_frame(
      self, mcp::encode_error(id, protocol::make_error(code, std::move(text))));
}

void handle(mcp_connection_actor_type* self, std::string& text);

void drain(mcp_connection_actor_type* self) {
  auto& st = self->state;
  while (!st.deferred.empty() && !st.opening &&
         st.in_flight <= st.cfg->max_reply_backlog_bytes) {
    auto text = std::move(st.deferred.front());
    st.deferred.pop_front();
    auto charge = inbound_charge(text.size());
    handle(self, text);
    st.out->consumed(charge);
  }
}

/// `initialize` without a session: open one, then hand it the request.
void open_session(mcp_connection_actor_type* self, mcp::message msg) {
  auto& st = self->state;
  st.opening = true;
  self->request(st.supervisor, caf::infinite, mcp_open_atom::value)
      .then(
          [=](caf::actor& session, std::string& sid) mutable {
            auto& st = self->state;
            st.session = session;
            st.session_id = sid;
            st.opening = false;
            log::info("mcp_ws_open",
                      {{"connection_id", st.id}, {"session_id", sid}});
            self->send(session, mcp_call_atom::value, std::move(msg), st.sink);
            drain(self);
          },
          [=](caf::error&) {
            self->state.opening = false;
            send_error(self, msg.id, error_code::session_limit,
                       "Session limit exceeded");
            drain(self);
          });
}

void handle(mcp_connection_actor_type* self, std::string& text) {
  auto& st = self->state;
  auto msg = mcp::decode(text);
  if (st.bucket.take(self->clock().now()) != 0) {
    if (msg.kind == mcp::message_kind::request)
      send_error(self, msg.id, error_code::rate_limited, "Rate limit exceeded");
    return;
  }
  if (msg.error)
    return send_error(self, msg.id, msg.error->code, msg.error->message);
  if (msg.kind == mcp::message_kind::request && msg.method == "initialize" &&
      !st.session)
    return open_session(self, std::move(msg));
  if (!st.session) {
    if (msg.kind == mcp::message_kind::request)
      send_error(self, msg.id, error_code::invalid_request,
                 "Not initialized: send initialize first");
    return;
  }
  if (msg.kind == mcp::message_kind::request)
    self->send(st.session, mcp_call_atom::value, std::move(msg), st.sink);
  else
    self->send(st.session, mcp_note_atom::value, std::move(msg));
}

void on_frame(mcp_connection_actor_type* self, std::string& text) {
  auto& st = self->state;
  if (st.closing)
    return st.out->consumed(inbound_charge(text.size()));
  if (!st.deferred.empty() || st.opening ||
      st.in_flight > st.cfg->max_reply_backlog_bytes) {
    st.deferred.push_back(std::move(text));
    return;
  }
  auto charge = inbound_charge(text.size());
  handle(self, text);
  st.out->consumed(charge);
}

} // namespace

caf::behavior mcp_connection_actor(mcp_connection_actor_type* self,
                                   std::uint64_t id, outbox_ptr out,
                                   caf::actor supervisor,
                                   std::shared_ptr<const settings> cfg,
                                   std::shared_ptr<server_stats> stats) {
  auto& st = self->state;
  st.id = id;
  st.out = std::move(out);
  st.supervisor = std::move(supervisor);
  st.cfg = std::move(cfg);
  st.stats = std::move(stats);
  st.sink = std::make_shared<frame_sink>(caf::actor{self});
  st.bucket = token_bucket{st.cfg->rate_limit_rps, st.cfg->rate_limit_burst,
                           self->clock().now()};
  ++st.stats->active_connections;
  ++st.stats->connections_total;
  self->attach_functor([stats = st.stats] { --stats->active_connections; });
  return {
      [=](frame_in_atom, std::string& text) { on_frame(self, text); },
      [=](frames_atom, frame_batch& batch) {
        send_frame(self, std::move(batch.text));
      },
      [=](written_atom, std::uint64_t bytes) {
        auto& st = self->state;
        st.in_flight -= std::min(st.in_flight, bytes);
        drain(self);
      },
      [=](close_atom, close_reason why, std::string& detail) {
        self->state.closing = true;
        self->state.out->close(why, std::move(detail));
      },
      [=](peer_gone_atom, bool, std::uint16_t) {
        auto& st = self->state;
        log::info("mcp_ws_closed",
                  {{"connection_id", st.id}, {"session_id", st.session_id}});
        if (st.session)
          self->send(st.session, sink_gone_atom::value, st.sink);
        st.sink = nullptr;
        self->quit();
      },
      [=](timer_atom, timer_kind, std::uint64_t) {
        // JSON pings are the seed protocol's; MCP has its own `ping`.
      },
  };
}

} // namespace actorexec
