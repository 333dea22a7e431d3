#include "net/http_session.hpp"

#include <chrono>

#include <boost/asio/dispatch.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/json/serialize.hpp>

#include "actors/log.hpp"
#include "net/websocket_session.hpp"

namespace actorexec::net {

namespace beast = boost::beast;
namespace http = beast::http;
using namespace std::chrono;

namespace {

/// The path of a target, without its query string.
std::string_view path_of(std::string_view target) {
  return target.substr(0, target.find('?'));
}

boost::json::object health(const server_context& ctx) {
  auto& s = *ctx.stats;
  auto up = duration_cast<duration<double>>(steady_clock::now() - s.started);
  return {{"status", "healthy"},
          {"service", "actorexec"},
          {"version", ACTOREXEC_VERSION},
          {"active_sessions", s.active_sessions.load()},
          {"detached_sessions", s.detached_sessions.load()},
          {"active_connections", s.active_connections.load()},
          {"running_processes", s.running_processes.load()},
          {"max_sessions", ctx.cfg->max_sessions},
          {"uptime_seconds", up.count()}};
}

} // namespace

http_session::http_session(boost::asio::ip::tcp::socket&& socket,
                           std::shared_ptr<server_context> ctx)
  : stream_(std::move(socket)), ctx_(std::move(ctx)) {
}

void http_session::run() {
  boost::asio::dispatch(stream_.get_executor(),
                        [self = shared_from_this()] { self->do_read(); });
}

void http_session::do_read() {
  parser_.emplace();
  parser_->body_limit(ctx_->http_body_limit);
  // A client that dribbles its request (slowloris) is cut off here.
  stream_.expires_after(milliseconds{ctx_->handshake_timeout_ms});
  http::async_read(stream_, buffer_, *parser_,
                   [self = shared_from_this()](auto ec, auto n) {
                     self->on_read(ec, n);
                   });
}

void http_session::on_read(boost::system::error_code ec, std::size_t) {
  if (ec == http::error::end_of_stream)
    return do_close();
  if (ec) {
    if (ec != beast::error::timeout && ec != boost::asio::error::eof
        && ec != boost::asio::error::operation_aborted)
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
  auto path = path_of(req.target());
  if (beast::websocket::is_upgrade(req)) {
    if (path == "/ws/mcp" || path == "/ws") {
      stream_.expires_never();
      std::make_shared<websocket_session>(stream_.release_socket(), ctx_)
        ->run(std::move(req));
      return;
    }
  }
  response_type res{http::status::ok, req.version()};
  res.set(http::field::server, "actorexec/" ACTOREXEC_VERSION);
  res.set(http::field::content_type, "application/json");
  res.keep_alive(req.keep_alive());
  bool is_get = req.method() == http::verb::get
                || req.method() == http::verb::head;
  if (is_get && path == "/health") {
    res.body() = boost::json::serialize(health(*ctx_));
  } else if (is_get && path == "/healthz") {
    res.body() = R"({"status":"ok"})";
  } else if (is_get && path == "/readyz") {
    bool ready = !ctx_->stats->draining
                 && ctx_->stats->active_sessions.load()
                      < static_cast<std::int64_t>(ctx_->cfg->max_sessions);
    res.result(ready ? http::status::ok : http::status::service_unavailable);
    res.body() = ready ? R"({"status":"ready"})" : R"({"status":"not_ready"})";
  } else {
    res.result(http::status::not_found);
    res.body() = R"({"error":"not found"})";
  }
  res.prepare_payload();
  send(std::move(res));
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
