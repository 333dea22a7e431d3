// http_session's /mcp endpoint (Streamable HTTP): the checks of each
// request, and its hand-over to the MCP session through an mcp_exchange.

#include <boost/beast/websocket/rfc6455.hpp>

#include <caf/actor_system.hpp>

#include "actors/log.hpp"
#include "actors/mcp_gateway.hpp"
#include "net/http_session.hpp"
#include "net/mcp_exchange.hpp"
#include "protocol/mcp_message.hpp"

namespace actorexec::net {

namespace beast = boost::beast;
namespace http = beast::http;
namespace mcp = protocol::mcp;

namespace {

bool accepts(std::string_view accept, std::string_view type) {
  return accept.empty() || accept.find(type) != std::string_view::npos ||
         accept.find("*/*") != std::string_view::npos;
}

/// A `tools/call` that asked for progress is answered as a stream: the
/// progress notifications go first, each with an id a client can resume
/// from.
bool wants_stream(const mcp::message& m) {
  if (m.method != "tools/call")
    return false;
  auto meta = m.params.if_contains("_meta");
  return meta && meta->is_object() &&
         meta->get_object().contains("progressToken");
}

} // namespace

void http_session::refuse_mcp(const request_type& req, http::status status,
                              int code, std::string_view text) {
  response_type res{status, req.version()};
  res.set(http::field::server, "actorexec/" ACTOREXEC_VERSION);
  res.set(http::field::content_type, "application/json");
  if (status == http::status::unauthorized)
    res.set(http::field::www_authenticate, R"(Bearer realm="actorexec")");
  if (status == http::status::method_not_allowed)
    res.set(http::field::allow, "GET, POST, DELETE");
  res.keep_alive(false);
  res.body() = mcp::encode_error(
      std::nullopt,
      protocol::make_error(static_cast<protocol::error_code>(code),
                           std::string{text}));
  res.prepare_payload();
  send(std::move(res));
}

void http_session::serve_mcp(request_type req) {
  auto& stats = *ctx_->stats;
  auto verdict = check_mcp(ctx_->access, req);
  if (verdict == access_verdict::forbidden_origin) {
    stats.count_rejection(server_stats::rejection::origin);
    log::warn("origin_refused",
              {{"remote", remote_address()},
               {"path", "/mcp"},
               {"origin", std::string{req[http::field::origin]}},
               {"host", std::string{req[http::field::host]}}});
    return refuse_mcp(req, http::status::forbidden, -32600,
                      "Forbidden: Origin or Host not allowed");
  }
  if (verdict == access_verdict::unauthorized) {
    stats.count_rejection(server_stats::rejection::unauthorized);
    log::warn("auth_failed", {{"remote", remote_address()},
                              {"path", "/mcp"},
                              {"offered", token_forms(req)}});
    return refuse_mcp(req, http::status::unauthorized, -32011, "Unauthorized");
  }
  if (beast::websocket::is_upgrade(req))
    return upgrade(std::move(req), true);
  if (auto v = req["MCP-Protocol-Version"];
      !v.empty() && !mcp::supported({v.data(), v.size()}))
    return refuse_mcp(req, http::status::bad_request, -32600,
                      "Unsupported MCP-Protocol-Version");
  std::string sid{req["Mcp-Session-Id"]};
  mcp_route route;
  route.session_id = sid;
  auto mode = mcp_exchange::mode::json;
  switch (req.method()) {
  case http::verb::post: {
    if (req[http::field::content_type].find("application/json") ==
        beast::string_view::npos)
      return refuse_mcp(req, http::status::unsupported_media_type, -32600,
                        "Content-Type must be application/json");
    route.message = mcp::decode(req.body());
    auto& m = route.message;
    if (m.error)
      return refuse_mcp(req, http::status::bad_request,
                        static_cast<int>(m.error->code), m.error->message);
    bool init =
        m.kind == mcp::message_kind::request && m.method == "initialize";
    if (init) {
      if (stats.draining.load())
        return refuse_mcp(req, http::status::service_unavailable, -32003,
                          "The server is draining");
      route.session_id.clear();
    } else if (sid.empty()) {
      return refuse_mcp(req, http::status::bad_request, -32600,
                        "Mcp-Session-Id required");
    }
    if (m.kind == mcp::message_kind::request) {
      mode =
          wants_stream(m) ? mcp_exchange::mode::sse : mcp_exchange::mode::json;
      if (!accepts(req[http::field::accept], mode == mcp_exchange::mode::sse
                                                 ? "text/event-stream"
                                                 : "application/json"))
        return refuse_mcp(req, http::status::not_acceptable, -32600,
                          "Accept must allow application/json and "
                          "text/event-stream");
    } else {
      route.what = mcp_route::kind::note;
      mode = mcp_exchange::mode::accepted;
    }
    break;
  }
  case http::verb::get:
    if (!accepts(req[http::field::accept], "text/event-stream"))
      return refuse_mcp(req, http::status::not_acceptable, -32600,
                        "Accept must allow text/event-stream");
    if (sid.empty())
      return refuse_mcp(req, http::status::bad_request, -32600,
                        "Mcp-Session-Id required");
    route.what = mcp_route::kind::listen;
    route.last_event_id = std::string{req["Last-Event-ID"]};
    mode = mcp_exchange::mode::sse;
    break;
  case http::verb::delete_:
    if (sid.empty())
      return refuse_mcp(req, http::status::bad_request, -32600,
                        "Mcp-Session-Id required");
    route.what = mcp_route::kind::end;
    mode = mcp_exchange::mode::ended;
    break;
  default:
    return refuse_mcp(req, http::status::method_not_allowed, -32600,
                      "Method not allowed");
  }
  // The answer may take the call's whole wait: no request deadline now.
  stream_.expires_never();
  auto ex = std::make_shared<mcp_exchange>(shared_from_this(), ctx_, mode,
                                           req.version(), req.keep_alive());
  route.sink = ex->sink();
  exchange_ = ex;
  ctx_->system->spawn(mcp_gateway, ctx_->supervisor, std::move(route));
}

} // namespace actorexec::net
