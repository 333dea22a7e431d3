#pragma once

#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "actors/outbox.hpp"

namespace actorexec::net {

class websocket_session;

/// The outbox of one websocket_session: posts to its strand and holds it
/// only weakly, so an actor that outlives its socket sends into the void.
class socket_outbox : public outbox {
public:
  socket_outbox(std::weak_ptr<websocket_session> ws,
                boost::asio::any_io_executor ex);

  void send(frame_batch frames) override;
  void close(close_reason why, std::string detail) override;
  void consumed(std::uint64_t charge) override;

private:
  std::weak_ptr<websocket_session> ws_;
  boost::asio::any_io_executor ex_;
};

} // namespace actorexec::net
