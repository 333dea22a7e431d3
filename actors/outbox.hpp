#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "actors/messages.hpp"

namespace actorexec {

/// The one narrow, thread-safe door from a connection actor to its socket.
/// net/ implements it; every call returns at once and posts the work to the
/// socket's strand, so no actor ever blocks on I/O or touches socket state.
class outbox {
public:
  virtual ~outbox() = default;

  /// Queues frames for writing, in order. The socket reports written bytes
  /// back to the connection actor with (written_atom, bytes).
  virtual void send(frame_batch frames) = 0;

  /// Ends the transport for `why` after the queued frames (a WebSocket
  /// sends its Close frame, with `detail` as the reason text).
  virtual void close(close_reason why, std::string detail) = 0;

  /// The actor is done with inbound frames worth `charge` (see
  /// `inbound_charge`): the socket may read that much more.
  virtual void consumed(std::uint64_t charge) = 0;
};

/// What an inbound frame of `size` bytes counts against the socket's read
/// window until the connection actor has handled it: its bytes, and never
/// less than what a frame costs in any case (a message, a string), so that
/// a flood of tiny frames is bounded as well as one of large ones.
constexpr std::uint64_t inbound_charge(std::size_t size) {
  return std::max<std::uint64_t>(size, 256);
}

using outbox_ptr = std::shared_ptr<outbox>;

} // namespace actorexec
