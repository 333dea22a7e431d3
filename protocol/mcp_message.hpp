#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "protocol/errors.hpp"
#include "protocol/messages.hpp"

namespace actorexec::protocol::mcp {

/// MCP revisions this server speaks, newest first. A client asking for one
/// gets it; any other gets the newest.
inline constexpr std::string_view versions[] = {"2025-11-25", "2025-06-18",
                                                "2025-03-26"};

/// The revision to answer a client that asked for `requested`.
std::string_view negotiate(std::string_view requested);

/// A revision this server speaks (for the MCP-Protocol-Version header).
bool supported(std::string_view version);

/// What one JSON-RPC message from an MCP client is.
enum class message_kind { request, notification, response, invalid };

/// One decoded message. Params are kept as JSON: each method reads its own.
struct message {
  message_kind kind = message_kind::invalid;
  /// Requests and responses: the id (string or integer).
  request_id id;
  std::string method;
  /// `params` (an object, or empty).
  boost::json::object params;
  /// Why the message is invalid (-32700, -32600), when it is.
  std::optional<rpc_error> error;
};

/// Decodes one message (a POST body, a WebSocket frame). A batch is invalid
/// (-32600): revisions after 2025-03-26 removed batches, and no client sends
/// them to a server that did not ask. Never throws.
message decode(std::string_view text);

/// The `initialize` result: the negotiated revision, server info,
/// capabilities (tools, logging; tasks when `with_tasks`) and instructions.
boost::json::object initialize_result(std::string_view version,
                                      std::string_view server_version,
                                      bool with_tasks);

/// A response frame; an error frame (`id` absent when unknown).
std::string encode_result(const request_id& id, boost::json::value result);
std::string encode_error(const request_id& id, const rpc_error& error);

/// A notification frame.
std::string encode_notification(std::string_view method,
                                boost::json::object params);

/// `notifications/progress` for `token`: `progress` so far, `message`.
std::string encode_progress(const boost::json::value& token,
                            std::uint64_t progress, std::string_view message);

} // namespace actorexec::protocol::mcp
