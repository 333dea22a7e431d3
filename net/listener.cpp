#include "net/listener.hpp"

#include <boost/asio/strand.hpp>

#include "actors/log.hpp"
#include "net/http_session.hpp"

namespace actorexec::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

listener::listener(asio::io_context& ioc, std::shared_ptr<server_context> ctx)
    : ioc_(ioc), acceptor_(asio::make_strand(ioc)), ctx_(std::move(ctx)) {}

void listener::open(const tcp::endpoint& endpoint,
                    boost::system::error_code& ec) {
  acceptor_.open(endpoint.protocol(), ec);
  if (ec)
    return;
  acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (ec)
    return;
  acceptor_.bind(endpoint, ec);
  if (ec)
    return;
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
}

tcp::endpoint listener::local_endpoint() const {
  boost::system::error_code ec;
  return acceptor_.local_endpoint(ec);
}

void listener::run() {
  do_accept();
}

void listener::stop() {
  asio::post(acceptor_.get_executor(), [self = shared_from_this()] {
    boost::system::error_code ignored;
    self->acceptor_.close(ignored);
  });
}

void listener::do_accept() {
  // Each connection gets its own strand: its handlers never run at once.
  acceptor_.async_accept(asio::make_strand(ioc_),
                         [self = shared_from_this()](auto ec, auto socket) {
                           self->on_accept(ec, std::move(socket));
                         });
}

void listener::on_accept(boost::system::error_code ec, tcp::socket socket) {
  if (ec == asio::error::operation_aborted)
    return; // stopped
  if (ec) {
    log::warn("accept_failed", {{"error", ec.message()}});
  } else {
    // Small frames (a response, one line of output) must leave at once,
    // not wait up to 40 ms for the peer's delayed ACK (Nagle).
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    std::make_shared<http_session>(std::move(socket), ctx_)->run();
  }
  if (acceptor_.is_open())
    do_accept();
}

} // namespace actorexec::net
