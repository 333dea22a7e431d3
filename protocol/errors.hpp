#pragma once

#include <string>

#include <boost/json/value.hpp>

namespace actorexec::protocol {

/// JSON-RPC error codes of the wire protocol (spec section 8).
enum class error_code : int {
  parse_error = -32700,
  invalid_request = -32600,
  method_not_found = -32601,
  invalid_params = -32602,
  internal_error = -32603,
  command_not_allowed = -32001,
  no_process = -32002,
  session_limit = -32003,
  stdin_unavailable = -32005,
  stdin_busy = -32006,
  resume_refused = -32010,
  unauthorized = -32011,
  rate_limited = -32029,
};

/// One JSON-RPC error object: `{"code","message","data"}`.
struct rpc_error {
  /// The numeric code sent on the wire.
  error_code code = error_code::internal_error;
  /// Human-readable text, e.g. "Unknown method: foo".
  std::string message;
  /// Extra detail; null unless the error has some.
  boost::json::value data = nullptr;
};

/// Builds an error with null data.
rpc_error make_error(error_code code, std::string message);

} // namespace actorexec::protocol
