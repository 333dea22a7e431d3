#include "net/http_session.hpp"

#include <chrono>

#include <boost/asio/dispatch.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/json/serialize.hpp>

#include "actors/log.hpp"
#include "net/metrics.hpp"
#include "net/probes.hpp"
#include "net/websocket_session.hpp"

namespace actorexec::net {

namespace beast = boost::beast;
namespace http = beast::http;
using namespace std::chrono;

namespace {

/// The path of a target, without its query string (which may hold a token,
/// so only the path is ever logged).
std::string_view path_of(std::string_view target) {
  return target.substr(0, target.find('?'));
}

/// At most this much of a client-chosen header goes into a log line.
constexpr std::size_t max_logged_header = 200;

std::string_view clip(std::string_view s) {
  return s.substr(0, max_logged_header);
}

} // namespace

http_session::http_session(boost::asio::ip::tcp::socket&& socket,
                           std::shared_ptr<server_context> ctx,
                           std::shared_ptr<void> slot)
    : stream_(std::move(socket)), ctx_(std::move(ctx)), slot_(std::move(slot)) {
}

void http_session::run() {
  boost::asio::dispatch(stream_.get_executor(),
                        [self = shared_from_this()] { self->do_read(); });
}

void http_session::do_read() {
  parser_.emplace();
  parser_->body_limit(ctx_->http_body_limit);
  // One deadline for the whole request: a client that dribbles it
  // (slowloris) is cut off here however slowly it keeps sending.
  stream_.expires_after(milliseconds{ctx_->handshake_timeout_ms});
  http::async_read_header(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](auto ec, auto n) { self->on_header(ec, n); });
}

void http_session::on_header(boost::system::error_code ec, std::size_t n) {
  if (ec)
    return on_read(ec, n);
  // An MCP message may be as large as a WebSocket message (send_input's
  // data); every other request has little or no body.
  if (path_of(parser_->get().target()) == "/mcp")
    parser_->body_limit(std::max<std::uint64_t>(ctx_->http_body_limit,
                                                ctx_->max_message_bytes));
  http::async_read(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](auto ec, auto n) { self->on_read(ec, n); });
}

void http_session::on_read(boost::system::error_code ec, std::size_t) {
  if (ec == http::error::end_of_stream)
    return do_close();
  if (ec == beast::error::timeout) {
    // tcp_stream closed the socket already; say so for the operator.
    log::debug("http_deadline", {{"remote", remote_address()}});
    return;
  }
  if (ec) {
    if (ec != boost::asio::error::eof &&
        ec != boost::asio::error::operation_aborted)
      log::info("http_error", {{"error", ec.message()}});
    if (ec == http::error::body_limit) {
      response_type res{http::status::payload_too_large, 11};
      res.set(http::field::content_type, "text/plain");
      res.body() = "request body too large\n";
      res.keep_alive(false);
      res.prepare_payload();
      return send(std::move(res));
    }
    return do_close();
  }
  handle(parser_->release());
}

void http_session::handle(request_type req) {
  std::string path{path_of(req.target())};
  if (path == "/mcp")
    return serve_mcp(std::move(req));
  if (path == "/ws/mcp" || path == "/ws") {
    if (beast::websocket::is_upgrade(req))
      return upgrade(std::move(req));
    return refuse(req, http::status::upgrade_required,
                  "WebSocket upgrade required");
  }
  serve(req, path);
}

void http_session::upgrade(request_type req, bool mcp) {
  auto& stats = *ctx_->stats;
  upgrade_access access;
  if (mcp) {
    // Checked by serve_mcp. A client speaking MCP asks for the `mcp`
    // subprotocol, and RFC 6455 wants an offered one echoed.
    auto offered = req[http::field::sec_websocket_protocol];
    if (offered.find("mcp") != beast::string_view::npos)
      access.subprotocol = "mcp";
  } else {
    access = check_upgrade(ctx_->access, req);
  }
  if (access.verdict == access_verdict::forbidden_origin) {
    stats.count_rejection(server_stats::rejection::origin);
    log::warn("origin_refused",
              {{"remote", remote_address()},
               {"origin", clip(req[http::field::origin])},
               {"origin_headers", req.count(http::field::origin)}});
    return refuse(req, http::status::forbidden, "origin not allowed");
  }
  if (access.verdict == access_verdict::unauthorized) {
    stats.count_rejection(server_stats::rejection::unauthorized);
    log::warn("auth_failed", {{"remote", remote_address()},
                              {"path", clip(path_of(req.target()))},
                              {"offered", token_forms(req)}});
    return refuse(req, http::status::unauthorized, "unauthorized");
  }
  if (stats.draining.load())
    return refuse(req, http::status::service_unavailable, "draining");
  auto address = remote_address();
  admission::refusal why = admission::refusal::none;
  auto slot = ctx_->admit->try_enter(address, why);
  if (!slot) {
    stats.count_rejection(server_stats::rejection::connection_limit);
    bool total = why == admission::refusal::total;
    log::warn("connection_limit",
              {{"remote", address}, {"limit", total ? "total" : "per_ip"}});
    return refuse(req, http::status::service_unavailable,
                  total ? "too many connections"
                        : "too many connections from this address");
  }
  stream_.expires_never();
  // Bytes after the request (the client's first frames, sent with it) were
  // read into our buffer: they belong to the WebSocket.
  auto early = beast::buffers_to_string(buffer_.data());
  buffer_.consume(buffer_.size());
  // A WebSocket counts under --max-connections from here on.
  slot_.reset();
  std::make_shared<websocket_session>(stream_.release_socket(), ctx_)
      ->run(std::move(req),
            upgrade_info{std::move(access.subprotocol), std::move(slot),
                         std::move(early), mcp});
}

void http_session::serve(const request_type& req, std::string_view path) {
  bool is_get =
      req.method() == http::verb::get || req.method() == http::verb::head;
  if (!is_get) {
    response_type res{http::status::method_not_allowed, req.version()};
    res.set(http::field::allow, "GET, HEAD");
    res.set(http::field::content_type, "application/json");
    res.keep_alive(req.keep_alive());
    res.body() = R"({"error":"method not allowed"})";
    res.prepare_payload();
    return send(std::move(res));
  }
  if (!may_serve(ctx_->access, path, req)) {
    ctx_->stats->count_rejection(server_stats::rejection::unauthorized);
    log::warn("auth_failed", {{"remote", remote_address()},
                              {"path", clip(path)},
                              {"offered", token_forms(req)}});
    return refuse(req, http::status::unauthorized, "unauthorized");
  }
  response_type res{http::status::ok, req.version()};
  res.set(http::field::server, "actorexec/" ACTOREXEC_VERSION);
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(req.keep_alive());
  auto& stats = *ctx_->stats;
  if (path == "/health") {
    res.body() = boost::json::serialize(health(stats, ctx_->cfg->max_sessions));
  } else if (path == "/healthz") {
    res.body() = R"({"status":"ok"})";
  } else if (path == "/readyz") {
    auto reason =
        not_ready_reason(stats, {ctx_->cfg->max_sessions, ctx_->admit->full()});
    if (reason.empty()) {
      res.body() = R"({"status":"ready"})";
    } else {
      res.result(http::status::service_unavailable);
      res.body() = boost::json::serialize(
          boost::json::object{{"status", "not_ready"}, {"reason", reason}});
    }
  } else if (path == "/metrics") {
    res.set(http::field::content_type, metrics_content_type);
    res.body() =
        render_metrics(stats, {ctx_->cfg->max_sessions, ctx_->max_connections},
                       sample_process());
  } else {
    res.result(http::status::not_found);
    res.body() = R"({"error":"not found"})";
  }
  res.prepare_payload();
  if (req.method() == http::verb::head)
    res.body().clear(); // Content-Length stays that of the GET
  send(std::move(res));
}

void http_session::refuse(const request_type& req, http::status status,
                          std::string_view text) {
  response_type res{status, req.version()};
  res.set(http::field::server, "actorexec/" ACTOREXEC_VERSION);
  res.set(http::field::content_type, "application/json");
  if (status == http::status::unauthorized)
    res.set(http::field::www_authenticate, R"(Bearer realm="actorexec")");
  if (status == http::status::service_unavailable)
    res.set(http::field::retry_after, "1");
  if (status == http::status::upgrade_required) {
    res.set(http::field::upgrade, "websocket");
    res.set(http::field::connection, "Upgrade");
  }
  // A refused client starts over on a fresh connection.
  res.keep_alive(false);
  res.body() = boost::json::serialize(boost::json::object{{"error", text}});
  res.prepare_payload();
  send(std::move(res));
}

std::string http_session::remote_address() const {
  boost::system::error_code ec;
  auto ep = stream_.socket().remote_endpoint(ec);
  if (ec)
    return "unknown";
  auto a = ep.address();
  // One client reached over IPv4 and over v4-mapped IPv6 is one address.
  if (a.is_v6() && a.to_v6().is_v4_mapped())
    a = boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, a.to_v6());
  return a.to_string();
}

void http_session::answer(response_type res) {
  exchange_.reset();
  send(std::move(res));
}

beast::tcp_stream http_session::take_stream() {
  exchange_.reset();
  return std::move(stream_);
}

void http_session::send(response_type res) {
  res_ = std::make_shared<response_type>(std::move(res));
  bool keep_alive = res_->keep_alive();
  http::async_write(stream_, *res_,
                    [self = shared_from_this(), keep_alive](auto ec, auto n) {
                      self->on_write(keep_alive, ec, n);
                    });
}

void http_session::on_write(bool keep_alive, boost::system::error_code ec,
                            std::size_t) {
  res_.reset();
  if (ec)
    return do_close();
  if (!keep_alive)
    return do_close();
  do_read();
}

void http_session::do_close() {
  boost::system::error_code ignored;
  stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send,
                            ignored);
}

} // namespace actorexec::net
