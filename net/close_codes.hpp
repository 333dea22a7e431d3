#pragma once

#include <cstdint>

#include "actors/messages.hpp"

namespace actorexec::net {

/// WebSocket close codes the server sends (RFC 6455 section 7.4), and the
/// protocol's own (docs/protocol.md).
inline constexpr std::uint16_t close_going_away = 1001;
/// A binary frame (the protocol is text only).
inline constexpr std::uint16_t close_unsupported = 1003;
/// A policy violation: a ping flood, the session limit.
inline constexpr std::uint16_t close_policy = 1008;
inline constexpr std::uint16_t close_internal = 1011;
/// The session was taken over by a resume on another connection.
inline constexpr std::uint16_t close_taken_over = 4001;

/// The WebSocket close code for a session's reason to end the connection.
constexpr std::uint16_t close_code_for(close_reason why) {
  switch (why) {
  case close_reason::shutdown:
    return close_going_away;
  case close_reason::taken_over:
    return close_taken_over;
  case close_reason::session_limit:
    return close_policy;
  }
  return close_internal;
}

} // namespace actorexec::net
