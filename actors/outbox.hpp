#pragma once

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
  virtual void send(frame_list frames) = 0;

  /// Sends a Close frame with `code` after the queued frames, then ends.
  virtual void close(std::uint16_t code, std::string reason) = 0;
};

using outbox_ptr = std::shared_ptr<outbox>;

} // namespace actorexec
