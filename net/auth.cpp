#include "net/auth.hpp"

#include <algorithm>
#include <cctype>

#include <boost/beast/http/field.hpp>

namespace actorexec::net {

namespace http = boost::beast::http;

namespace {

/// Prefix of a subprotocol that carries the token (browsers cannot set an
/// Authorization header on a WebSocket, but they can offer subprotocols).
constexpr std::string_view subprotocol_prefix = "bearer.";

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/// Percent-decodes `s`; a malformed escape stays as it is. A `+` stays a
/// `+` (RFC 3986), so base64 tokens need no escaping of it.
std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      auto hi = hex_value(s[i + 1]);
      auto lo = hex_value(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

/// The token of an `Authorization: Bearer <token>` header, if any.
std::optional<std::string_view> bearer_of(const http_request& req) {
  auto i = req.find(http::field::authorization);
  if (i == req.end())
    return std::nullopt;
  auto value = trim(i->value());
  auto sp = value.find(' ');
  if (sp == std::string_view::npos || !iequals(value.substr(0, sp), "bearer"))
    return std::nullopt;
  return trim(value.substr(sp + 1));
}

/// Every token offered outside the subprotocol header.
std::vector<std::string> plain_tokens(const http_request& req) {
  std::vector<std::string> out;
  if (auto b = bearer_of(req))
    out.emplace_back(*b);
  if (auto q = query_param(req.target(), "token"))
    out.push_back(std::move(*q));
  return out;
}

/// True when any of `offered` is the token; checks them all, so the time
/// taken does not depend on which one matched.
bool any_matches(std::string_view token,
                 const std::vector<std::string>& offered) {
  bool ok = false;
  for (auto& t : offered)
    ok |= constant_time_equal(token, t);
  return ok;
}

} // namespace

bool constant_time_equal(std::string_view expected, std::string_view offered) {
  if (expected.empty())
    return false;
  // Walk `expected` in full whatever `offered` holds; a length mismatch
  // only sets a bit, it does not end the loop early.
  volatile unsigned char diff = expected.size() != offered.size();
  for (std::size_t i = 0; i < expected.size(); ++i) {
    auto o = offered.empty() ? 0 : offered[i % offered.size()];
    diff = diff | static_cast<unsigned char>(expected[i] ^ o);
  }
  return diff == 0;
}

std::optional<std::string> query_param(std::string_view target,
                                       std::string_view name) {
  auto q = target.find('?');
  if (q == std::string_view::npos)
    return std::nullopt;
  auto query = target.substr(q + 1);
  query = query.substr(0, query.find('#'));
  while (!query.empty()) {
    auto amp = query.find('&');
    auto pair = query.substr(0, amp);
    auto eq = pair.find('=');
    if (pair.substr(0, eq) == name)
      return percent_decode(eq == std::string_view::npos ? std::string_view{}
                                                         : pair.substr(eq + 1));
    if (amp == std::string_view::npos)
      break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

bool origin_allowed(const access_policy& policy, const http_request& req) {
  // A browser sends one Origin. Two mean a client or a proxy that added one
  // to another; which one a check should read is anyone's guess (this one
  // read the first, so a foreign origin after a listed one passed), so
  // neither is believed, with an allow-list or without.
  if (req.count(http::field::origin) > 1)
    return false;
  if (policy.allowed_origins.empty())
    return true;
  auto i = req.find(http::field::origin);
  // No Origin: not a browser, so no cross-site hijacking to fear.
  return i == req.end() ||
         std::find(policy.allowed_origins.begin(), policy.allowed_origins.end(),
                   i->value()) != policy.allowed_origins.end();
}

upgrade_access check_upgrade(const access_policy& policy,
                             const http_request& req) {
  upgrade_access result;
  if (!origin_allowed(policy, req)) {
    result.verdict = access_verdict::forbidden_origin;
    return result;
  }
  if (policy.token.empty())
    return result;
  bool ok = any_matches(policy.token, plain_tokens(req));
  auto protos = req[http::field::sec_websocket_protocol];
  while (!protos.empty()) {
    auto comma = protos.find(',');
    auto p = trim(protos.substr(0, comma));
    if (p.substr(0, subprotocol_prefix.size()) == subprotocol_prefix &&
        constant_time_equal(policy.token,
                            p.substr(subprotocol_prefix.size())) &&
        result.subprotocol.empty()) {
      result.subprotocol = std::string{p};
      ok = true;
    }
    if (comma == std::string_view::npos)
      break;
    protos.remove_prefix(comma + 1);
  }
  if (!ok)
    result.verdict = access_verdict::unauthorized;
  return result;
}

namespace {

/// The host of an origin or a Host value ("http://a:1" or "a:1" -> "a").
std::string_view host_part(std::string_view v) {
  if (auto scheme = v.find("://"); scheme != std::string_view::npos)
    v.remove_prefix(scheme + 3);
  if (!v.empty() && v.front() == '[')
    return v.substr(0, v.find(']') + 1);
  return v.substr(0, v.find(':'));
}

bool is_loopback_host(std::string_view host) {
  return host == "localhost" || host == "127.0.0.1" || host == "[::1]";
}

bool mcp_origin_allowed(const access_policy& policy, const http_request& req) {
  if (req.count(http::field::origin) > 1)
    return false;
  auto i = req.find(http::field::origin);
  if (i == req.end())
    return true; // not a browser
  if (!policy.allowed_origins.empty())
    return std::find(policy.allowed_origins.begin(),
                     policy.allowed_origins.end(),
                     i->value()) != policy.allowed_origins.end();
  auto origin = i->value();
  bool web =
      origin.substr(0, 7) == "http://" || origin.substr(0, 8) == "https://";
  return web && is_loopback_host(host_part(origin));
}

} // namespace

access_verdict check_mcp(const access_policy& policy, const http_request& req) {
  if (!mcp_origin_allowed(policy, req))
    return access_verdict::forbidden_origin;
  if (policy.loopback_host && req.count(http::field::host) == 1 &&
      !is_loopback_host(host_part(req[http::field::host])))
    return access_verdict::forbidden_origin;
  if (!policy.token.empty() && !any_matches(policy.token, plain_tokens(req)))
    return access_verdict::unauthorized;
  return access_verdict::allow;
}

std::string token_forms(const http_request& req) {
  std::string out;
  auto add = [&out](const char* form) {
    if (!out.empty())
      out += ',';
    out += form;
  };
  if (req.find(http::field::authorization) != req.end())
    add("authorization");
  if (query_param(req.target(), "token"))
    add("query");
  if (req[http::field::sec_websocket_protocol].find(subprotocol_prefix) !=
      std::string_view::npos)
    add("subprotocol");
  return out.empty() ? "none" : out;
}

bool may_serve(const access_policy& policy, std::string_view path,
               const http_request& req) {
  if (policy.token.empty() || policy.metrics_no_auth)
    return true;
  if (path != "/metrics" && path != "/health")
    return true; // probes and 404s reveal nothing
  return any_matches(policy.token, plain_tokens(req));
}

} // namespace actorexec::net
