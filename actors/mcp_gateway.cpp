#include "actors/mcp_gateway.hpp"

#include <caf/all.hpp>

#include "actors/messages.hpp"

namespace actorexec {

namespace {

namespace mcp = protocol::mcp;

std::string error_body(protocol::error_code code, std::string text,
                       const protocol::request_id& id) {
  return mcp::encode_error(id, protocol::make_error(code, std::move(text)));
}

/// Hands the route to `session` (known now) and quits.
void deliver(caf::event_based_actor* self, caf::actor session,
             const mcp_route& r) {
  r.sink->bound(session, r.session_id);
  switch (r.what) {
  case mcp_route::kind::call:
    self->send(session, mcp_call_atom::value, r.message, r.sink);
    break;
  case mcp_route::kind::note:
    self->send(session, mcp_note_atom::value, r.message);
    r.sink->done();
    break;
  case mcp_route::kind::listen:
    self->request(session, caf::infinite, mcp_listen_atom::value, r.sink,
                  r.last_event_id)
        .then(
            [=](bool found) {
              if (!found)
                r.sink->refuse(400,
                               error_body(protocol::error_code::invalid_request,
                                          "Unknown or expired Last-Event-ID",
                                          std::nullopt));
              self->quit();
            },
            [=](caf::error&) {
              r.sink->refuse(404,
                             error_body(protocol::error_code::invalid_request,
                                        "Session not found", std::nullopt));
              self->quit();
            });
    return;
  case mcp_route::kind::end:
    self->request(session, caf::infinite, mcp_end_atom::value)
        .then([=](bool) { r.sink->done(); },
              [=](caf::error&) { r.sink->done(); });
    return;
  }
  self->quit();
}

} // namespace

caf::behavior mcp_gateway(caf::event_based_actor* self, caf::actor supervisor,
                          mcp_route route) {
  auto r = std::make_shared<mcp_route>(std::move(route));
  if (r->what == mcp_route::kind::call && r->session_id.empty()) {
    self->request(supervisor, caf::infinite, mcp_open_atom::value)
        .then(
            [=](caf::actor& session, std::string& id) {
              r->session_id = id;
              deliver(self, session, *r);
            },
            [=](caf::error&) {
              r->sink->refuse(
                  503, error_body(protocol::error_code::session_limit,
                                  "Session limit exceeded", r->message.id));
              self->quit();
            });
    return {};
  }
  self->request(supervisor, caf::infinite, mcp_find_atom::value, r->session_id)
      .then([=](caf::actor& session) { deliver(self, session, *r); },
            [=](caf::error&) {
              r->sink->refuse(404,
                              error_body(protocol::error_code::invalid_request,
                                         "Session not found", r->message.id));
              self->quit();
            });
  return {};
}

} // namespace actorexec
