#include "app/config_checks.hpp"

#include <fstream>
#include <iterator>

#include <boost/asio/ip/address.hpp>

namespace actorexec::app {

namespace {

/// Loads the token: the file first, then the variable.
std::optional<std::string> load_token(const std::string& token_variable,
                                      bool file_from_flag, config& out) {
  if (!file_from_flag && !token_variable.empty()) {
    out.auth_token = token_variable;
    out.auth_token_file.clear();
  }
  if (!out.auth_token_file.empty())
    if (auto err = read_token_file(out.auth_token_file, out.auth_token))
      return err;
  for (unsigned char ch : out.auth_token)
    if (ch <= 0x20 || ch >= 0x7f)
      return std::string{"the auth token must be printable ASCII without "
                         "spaces"};
  return std::nullopt;
}

/// Refuses a non-loopback bind without a token, unless told `--insecure`.
std::optional<std::string> check_exposure(const config& cfg) {
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(cfg.host, ec);
  if (!ec && !address.is_loopback() && cfg.auth_token.empty() && !cfg.insecure)
    return "refusing to listen on " + cfg.host +
           " without an auth token: set --auth-token-file or "
           "ACTOREXEC_AUTH_TOKEN, or pass --insecure";
  return std::nullopt;
}

} // namespace

void derive_settings(bool timeout_given, config& out) {
  if (!timeout_given)
    out.actors.heartbeat_timeout_ms = 2 * out.actors.heartbeat_interval_ms;
  if (out.io_threads == 0)
    out.io_threads = 1;
  // A session sends while it holds credit: without any, output never flows.
  if (out.actors.connection_window_bytes == 0)
    out.actors.connection_window_bytes = 1;
}

std::optional<std::string> check_config(const std::string& token_variable,
                                        bool file_from_flag, config& out) {
  // Without a command allow-list a client sets any variable in the command
  // itself (`env X=1 cmd`): the list would only look like a control.
  if (!out.actors.allowed_env.empty() && out.actors.allowed.empty())
    return std::string{"--allowed-env needs --allowed-commands: without a "
                       "command allow-list a client can set any variable "
                       "through the command itself"};
  if (auto err = load_token(token_variable, file_from_flag, out))
    return err;
  return check_exposure(out);
}

std::optional<std::string> read_token_file(const std::string& path,
                                           std::string& token) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    return "cannot read the auth token file " + path;
  std::string text{std::istreambuf_iterator<char>{in}, {}};
  auto end = text.find_last_not_of(" \t\r\n");
  if (end == std::string::npos)
    return "the auth token file " + path + " is empty";
  token = text.substr(0, end + 1);
  return std::nullopt;
}

} // namespace actorexec::app
