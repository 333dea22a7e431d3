#include "loadtest/upgrade_auth.hpp"

#include <fstream>
#include <iterator>

#include <boost/json/parse.hpp>

#include "loadtest/scenario.hpp"

namespace actorexec::loadtest {

namespace {

/// Reason phrases of the statuses an upgrade meets (RFC 9110), so a
/// message does not depend on what the server chose to write.
std::string_view standard_reason(unsigned status) {
  switch (status) {
  case 400:
    return "Bad Request";
  case 401:
    return "Unauthorized";
  case 403:
    return "Forbidden";
  case 404:
    return "Not Found";
  case 405:
    return "Method Not Allowed";
  case 426:
    return "Upgrade Required";
  case 429:
    return "Too Many Requests";
  case 500:
    return "Internal Server Error";
  case 502:
    return "Bad Gateway";
  case 503:
    return "Service Unavailable";
  default:
    return {};
  }
}

/// The `error` member of a JSON body, kept short and printable.
std::string body_error(std::string_view body) {
  boost::system::error_code ec;
  auto doc = boost::json::parse(body, ec);
  if (ec || !doc.is_object())
    return {};
  auto* error = doc.get_object().if_contains("error");
  if (error == nullptr || !error->is_string())
    return {};
  std::string out;
  for (char c : error->get_string().subview().substr(0, 120))
    out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out;
}

} // namespace

std::string read_token_file(const std::string& path, const std::string& flag) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    throw scenario_error(flag + ": cannot read " + path);
  std::string text{std::istreambuf_iterator<char>{in}, {}};
  auto end = text.find_last_not_of(" \t\r\n");
  if (end == std::string::npos)
    throw scenario_error(flag + ": " + path + " is empty");
  text.resize(end + 1);
  for (unsigned char ch : text)
    if (ch <= 0x20 || ch >= 0x7f)
      throw scenario_error(flag + ": the token must be printable ASCII " +
                           "without spaces");
  return text;
}

std::string describe_refused_upgrade(unsigned status, std::string_view reason,
                                     std::string_view body) {
  std::string out = "HTTP " + std::to_string(status);
  auto phrase = standard_reason(status);
  if (phrase.empty())
    phrase = reason;
  if (!phrase.empty())
    out.append(" ").append(phrase);
  std::string hint;
  if (status == 401)
    hint = "check --token-file";
  else if (status == 403)
    hint = "Origin";
  else if (status == 404)
    hint = "check the URL's path";
  else
    hint = body_error(body);
  if (status == 503 && hint.empty())
    hint = "connection limit or draining";
  if (!hint.empty())
    out += " (" + hint + ")";
  return out;
}

} // namespace actorexec::loadtest
