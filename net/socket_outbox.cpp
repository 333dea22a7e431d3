#include "net/socket_outbox.hpp"

#include <boost/asio/post.hpp>

#include "net/close_codes.hpp"
#include "net/websocket_session.hpp"

namespace actorexec::net {

namespace asio = boost::asio;

socket_outbox::socket_outbox(std::weak_ptr<websocket_session> ws,
                             asio::any_io_executor ex)
    : ws_(std::move(ws)), ex_(std::move(ex)) {}

void socket_outbox::send(frame_batch frames) {
  asio::post(ex_, [ws = ws_, frames = std::move(frames)]() mutable {
    if (auto s = ws.lock())
      s->enqueue(std::move(frames));
  });
}

void socket_outbox::close(close_reason why, std::string detail) {
  asio::post(ex_, [ws = ws_, why, detail = std::move(detail)]() mutable {
    if (auto s = ws.lock())
      s->start_close(close_code_for(why), std::move(detail));
  });
}

void socket_outbox::consumed(std::uint64_t charge) {
  asio::post(ex_, [ws = ws_, charge] {
    if (auto s = ws.lock())
      s->on_consumed(charge);
  });
}

} // namespace actorexec::net
