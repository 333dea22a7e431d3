#pragma once

#include <optional>
#include <string>

#include "app/config.hpp"

namespace actorexec::app {

/// Settings that follow from others once every value is read: the
/// heartbeat timeout (twice the interval unless `timeout_given`), at least
/// one I/O thread, a connection window of at least one byte.
void derive_settings(bool timeout_given, config& out);

/// Rules across settings, and the auth token: loads it (the file first;
/// then `token_variable`, ACTOREXEC_AUTH_TOKEN or empty, unless the file
/// came from a flag) and refuses a non-loopback bind without one. Returns an
/// error message, or nothing on success.
std::optional<std::string> check_config(const std::string& token_variable,
                                        bool file_from_flag, config& out);

/// Reads the token of `path`: its content without trailing whitespace.
/// Returns an error message, or nothing on success.
std::optional<std::string> read_token_file(const std::string& path,
                                           std::string& token);

} // namespace actorexec::app
