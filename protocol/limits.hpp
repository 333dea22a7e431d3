#pragma once

#include <cstddef>
#include <optional>

#include "protocol/messages.hpp"

namespace actorexec::protocol {

/// Size limits of request params (0: no limit). They are configuration, so
/// the decoder does not know them: the caller checks a decoded request with
/// `check_limits`.
struct request_limits {
  /// Bytes of `command`.
  std::size_t max_command_bytes = 64 * 1024;
  /// Entries of `argv`, and their bytes summed.
  std::size_t max_argv_entries = 4096;
  std::size_t max_argv_bytes = 256 * 1024;
  /// Entries of `env`, and the bytes of its names and values summed.
  std::size_t max_env_entries = 256;
  std::size_t max_env_bytes = 32 * 1024;
  /// Bytes of one `input` request's `data`, after base64 decoding.
  std::size_t max_input_bytes = 1024 * 1024;
};

/// The -32602 error naming the first param of `req` over a limit, or
/// nothing when every param is within its limit.
std::optional<rpc_error> check_limits(const request& req,
                                      const request_limits& limits);

} // namespace actorexec::protocol
