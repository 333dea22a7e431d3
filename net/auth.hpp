#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace actorexec::net {

/// Who may use the server: the bearer token and the Origin allow-list
/// (spec section 10). Read-only once the server runs.
struct access_policy {
  /// The bearer token; empty: no authentication.
  std::string token;
  /// Origins allowed to open a WebSocket (exact match); empty: any.
  std::vector<std::string> allowed_origins;
  /// Serve /metrics and /health without the token.
  bool metrics_no_auth = false;
  /// The server listens on loopback only: /mcp requests must name a
  /// loopback host (against DNS rebinding).
  bool loopback_host = true;
};

/// What the checks of one request decided.
enum class access_verdict {
  /// Let it through.
  allow,
  /// 401: a token is required and none of the offered ones matches.
  unauthorized,
  /// 403: the Origin header is not on the allow-list, or came twice.
  forbidden_origin,
};

/// The result of checking an upgrade request.
struct upgrade_access {
  access_verdict verdict = access_verdict::allow;
  /// The `bearer.<token>` subprotocol that carried a valid token, to echo in
  /// the handshake response (RFC 6455 requires echoing one offered value);
  /// empty when the token came another way.
  std::string subprotocol;
};

using http_request =
    boost::beast::http::request<boost::beast::http::string_body>;

/// Compares in time that depends only on `expected`'s length, so a caller
/// learns nothing about the token from how long a refusal takes.
bool constant_time_equal(std::string_view expected, std::string_view offered);

/// The percent-decoded value of query parameter `name` in `target`, or
/// nothing when absent.
std::optional<std::string> query_param(std::string_view target,
                                       std::string_view name);

/// True when the Origin of `req` may open a WebSocket: absent, or one
/// header whose value is on the allow-list (any value when the list is
/// empty). More than one Origin header is refused whatever the list.
bool origin_allowed(const access_policy& policy, const http_request& req);

/// Checks Origin, then the token (Authorization: Bearer, ?token=, or a
/// `bearer.<token>` subprotocol), of a WebSocket upgrade request.
upgrade_access check_upgrade(const access_policy& policy,
                             const http_request& req);

/// The checks of a request to /mcp (HTTP or WebSocket), against DNS
/// rebinding and strangers: one Origin at most, which must be listed (with
/// `--allowed-origin`) or a loopback origin (without: a web page of another
/// site is refused even when the server has no token); a loopback Host when
/// the server listens on loopback; then the token (Authorization: Bearer,
/// or ?token=).
access_verdict check_mcp(const access_policy& policy, const http_request& req);

/// True when plain HTTP request `req` for `path` may be served: probes
/// always; /metrics and /health only with the token (Authorization or
/// ?token=) unless they are exempt.
bool may_serve(const access_policy& policy, std::string_view path,
               const http_request& req);

/// Which ways of passing a token `req` used ("authorization", "query",
/// "subprotocol", comma-separated; "none"), for logs that must never hold
/// the token itself.
std::string token_forms(const http_request& req);

} // namespace actorexec::net
